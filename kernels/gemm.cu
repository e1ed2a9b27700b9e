// Our own GEMMs, used when cuBLASLt is not installed on the machine:
//   C[b] = alpha * A[b] · B[b] + beta * C[b]   with A [M, K], B [K, N], C [M, N] row-major.
// A and B are read through general (row, column) strides, so transposed views cost no copy:
// element (m, k) of batch b is A[b*strideA + m*rsA + k*csA]. C is dense with leading dim ldc.
// Accumulation is always fp32.
// CPU twin: sdj.backend.cpu.Gemm (register-tiled sgemm) via CpuMatMul; the CUDA tests compare the two.
#include "common.cuh"
#include <mma.h>

// ---- fp32 SIMT tiled GEMM. Launch: grid (ceil(N/64), ceil(M/64), batch), block 256 (16×16);
// each thread computes a 4×4 patch of the 64×64 tile, stepping K by 16 through shared memory.
#define SG_TILE 64
#define SG_BK 16

extern "C" __global__ void __launch_bounds__(256) gemm_f32(
        const float* A, const float* B, float* C, int M, int N, int K,
        long long rsA, long long csA, long long strideA, long long rsB, long long csB, long long strideB,
        long long ldc, long long strideC, float alpha, float beta) {
    __shared__ float As[SG_BK][SG_TILE + 4];  // stored k-major so the inner loop reads rows
    __shared__ float Bs[SG_BK][SG_TILE + 4];
    A += blockIdx.z * strideA;
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    int m0 = blockIdx.y * SG_TILE, n0 = blockIdx.x * SG_TILE;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += SG_BK) {
        for (int e = threadIdx.x; e < SG_TILE * SG_BK; e += 256) {
            int r = e / SG_BK, k = e % SG_BK;  // A tile element (m0+r, k0+k)
            int m = m0 + r, kk = k0 + k;
            As[k][r] = (m < M && kk < K) ? A[m * rsA + kk * csA] : 0.f;
            int k2 = e / SG_TILE, c = e % SG_TILE;  // B tile element (k0+k2, n0+c)
            int n = n0 + c, kb = k0 + k2;
            Bs[k2][c] = (n < N && kb < K) ? B[kb * rsB + n * csB] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < SG_BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) { a[i] = As[k][ty * 4 + i]; b[i] = Bs[k][tx * 4 + i]; }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty * 4 + i;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int n = n0 + tx * 4 + j;
            if (n >= N) continue;
            float* c = C + m * ldc + n;
            *c = alpha * acc[i][j] + (beta != 0.f ? beta * *c : 0.f);
        }
    }
}

// ---- Tensor-core GEMM for fp16/bf16 inputs (WMMA 16×16×16 → mma.sync on sm_80/sm_90), fp32
// accumulators. Launch: grid (ceil(N/64), ceil(M/64), batch), block 128 = 4 warps in a 2×2 layout,
// each warp owning a 32×32 piece (2×2 fragments). K advances by 32 through shared memory; the
// accumulators are staged through shared memory for the alpha/beta epilogue and the bounds checks.
#define TC_TILE 64
#define TC_BK 32
#define TC_LDA (TC_BK + 8)    // padding keeps WMMA's 32-byte alignment and spreads banks
#define TC_LDB (TC_TILE + 8)
#define TC_LDC (TC_TILE + 4)

template <typename T>
__device__ void gemm_tc_impl(const T* A, const T* B, T* C, int M, int N, int K, long long rsA, long long csA,
                             long long strideA, long long rsB, long long csB, long long strideB, long long ldc,
                             long long strideC, float alpha, float beta) {
    using namespace nvcuda;
    constexpr int A_BYTES = TC_TILE * TC_LDA * sizeof(T), B_BYTES = TC_BK * TC_LDB * sizeof(T);
    constexpr int C_BYTES = TC_TILE * TC_LDC * sizeof(float);
    constexpr int SMEM = (A_BYTES + B_BYTES) > C_BYTES ? (A_BYTES + B_BYTES) : C_BYTES;
    __shared__ __align__(128) unsigned char smem[SMEM];
    T* As = reinterpret_cast<T*>(smem);
    T* Bs = reinterpret_cast<T*>(smem + A_BYTES);
    float* Cs = reinterpret_cast<float*>(smem);  // reused after the main loop

    A += blockIdx.z * strideA;
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    int warp = threadIdx.x / 32, wm = warp / 2, wn = warp % 2;
    int m0 = blockIdx.y * TC_TILE, n0 = blockIdx.x * TC_TILE;
    const T zero = from_f32<T>(0.f);

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);

    for (int k0 = 0; k0 < K; k0 += TC_BK) {
        for (int e = threadIdx.x; e < TC_TILE * TC_BK; e += blockDim.x) {
            int r = e / TC_BK, k = e % TC_BK, m = m0 + r, ka = k0 + k;
            As[r * TC_LDA + k] = (m < M && ka < K) ? A[m * rsA + ka * csA] : zero;
            int k2 = e / TC_TILE, c = e % TC_TILE, n = n0 + c, kb = k0 + k2;
            Bs[k2 * TC_LDB + c] = (n < N && kb < K) ? B[kb * rsB + n * csB] : zero;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TC_BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], As + (wm * 32 + i * 16) * TC_LDA + kk, TC_LDA);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], Bs + kk * TC_LDB + wn * 32 + j * 16, TC_LDB);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(Cs + (wm * 32 + i * 16) * TC_LDC + wn * 32 + j * 16, acc[i][j], TC_LDC,
                                    wmma::mem_row_major);
    __syncthreads();
    for (int e = threadIdx.x; e < TC_TILE * TC_TILE; e += blockDim.x) {
        int r = e / TC_TILE, c = e % TC_TILE, m = m0 + r, n = n0 + c;
        if (m < M && n < N) {
            T* out = C + m * ldc + n;
            float v = alpha * Cs[r * TC_LDC + c];
            if (beta != 0.f) v += beta * to_f32(*out);
            *out = from_f32<T>(v);
        }
    }
}

#define GEMM_TC_ENTRY(suffix, T)                                                                               \
    extern "C" __global__ void __launch_bounds__(128) gemm_tc_##suffix(                                       \
            const T* A, const T* B, T* C, int M, int N, int K, long long rsA, long long csA, long long strideA, \
            long long rsB, long long csB, long long strideB, long long ldc, long long strideC, float alpha,    \
            float beta) {                                                                                      \
        gemm_tc_impl<T>(A, B, C, M, N, K, rsA, csA, strideA, rsB, csB, strideB, ldc, strideC, alpha, beta);   \
    }
GEMM_TC_ENTRY(f16, __half)
GEMM_TC_ENTRY(bf16, __nv_bfloat16)
