// Fused scaled-dot-product attention, flash style: softmax(scale · Q·Kᵀ [+ causal mask]) · V computed
// tile by tile with an online softmax, so no Nq×Nk matrix ever exists in memory. The forward pass
// saves the row log-sum-exp (fp32, [B*H, Nq]) that the backward pass uses to rebuild probabilities.
//
// Layout: Q/O (and dQ) are [B, H, Nq, D] views and K/V (and dK/dV) are [B, H, Nk, D] views given
// by element strides (sB, sH, sN) with the D axis contiguous; so both [B, H, N, D] tensors and the
// [B, N, H*D] output of a linear layer are read in place. D <= 256 (SD v1 uses 40, 80 and 160).
// Causal masking is top-left aligned: query i sees keys j <= i.
//
// Launch (all three main kernels): block 128 threads = 4 warps, each warp owns 4 rows (16 rows per
// block); grid (ceil(rows / 16), B*H). Tiles of 32 keys (or queries) are staged in shared memory
// as fp32; inside a tile each lane owns one key for the dot products, then owns output columns
// d = lane + 32t for the accumulation. Dynamic shared memory, in floats:
//   forward:             32*(D+1) + 32*D + 16*D
//   backward_dq:         2*32*(D+1) + 2*16*D
//   backward_dkdv:       2*32*(D+1) + 64 + 2*16*D
// (the host raises the dynamic limit above 48 KB when D needs it). fp32 accumulation throughout.
#include "common.cuh"

#define ATT_WARPS 4
#define ATT_ROWS 4                          // rows per warp
#define ATT_BLOCK_ROWS (ATT_WARPS * ATT_ROWS)
#define ATT_TILE 32
#define ATT_DT 8                            // 256 / 32 accumulator columns per lane

struct AttnLayout {
    long long sB, sH, sN;
};

__device__ __forceinline__ long long row_offset(AttnLayout l, int b, int h, int n) {
    return b * l.sB + h * l.sH + n * l.sN;
}

// Loads rows [row0, row0+count) of a [N, D] head into shared memory with leading dim ld (zeros past N).
template <typename T>
__device__ void stage_rows(float* dst, int ld, const T* src, AttnLayout l, int b, int h, int row0, int count, int N, int D) {
    for (int e = threadIdx.x; e < count * D; e += blockDim.x) {
        int r = e / D, d = e % D, row = row0 + r;
        dst[r * ld + d] = row < N ? to_f32(src[row_offset(l, b, h, row) + d]) : 0.f;
    }
}

__device__ __forceinline__ float dot_smem(const float* a, const float* b, int D) {
    float s = 0.f;
    for (int d = 0; d < D; d++) s = fmaf(a[d], b[d], s);
    return s;
}

template <typename T>
__device__ void attention_forward_impl(const T* q, const T* k, const T* v, T* o, float* lse, int H, int Nq, int Nk,
                                       int D, AttnLayout ql, AttnLayout kl, float scale, int causal) {
    SDJ_DYNAMIC_SHARED(float, smem);
    const int ldk = D + 1;
    float* Ks = smem;
    float* Vs = Ks + ATT_TILE * ldk;
    float* Qs = Vs + ATT_TILE * D;
    int bh = blockIdx.y, b = bh / H, h = bh % H;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int row0 = blockIdx.x * ATT_BLOCK_ROWS;
    stage_rows(Qs, D, q, ql, b, h, row0, ATT_BLOCK_ROWS, Nq, D);

    float m[ATT_ROWS], l[ATT_ROWS], acc[ATT_ROWS][ATT_DT];
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        m[r] = -INFINITY;
        l[r] = 0.f;
#pragma unroll
        for (int t = 0; t < ATT_DT; t++) acc[r][t] = 0.f;
    }
    int kEnd = causal ? min(Nk, row0 + ATT_BLOCK_ROWS) : Nk;
    for (int kt = 0; kt < kEnd; kt += ATT_TILE) {
        __syncthreads();  // the previous tile is fully consumed (and Qs is staged on the first pass)
        stage_rows(Ks, ldk, k, kl, b, h, kt, ATT_TILE, Nk, D);
        stage_rows(Vs, D, v, kl, b, h, kt, ATT_TILE, Nk, D);
        __syncthreads();
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            int lr = warp * ATT_ROWS + r, row = row0 + lr;
            if (row >= Nq) continue;  // warp-uniform
            int key = kt + lane;
            float s = -INFINITY;
            if (key < Nk && !(causal && key > row)) s = scale * dot_smem(Qs + lr * D, Ks + lane * ldk, D);
            float mnew = fmaxf(m[r], warp_max(s));
            if (mnew == -INFINITY) continue;  // every key of this tile masked
            float p = expf(s - mnew);          // 0 for masked keys
            float corr = expf(m[r] - mnew);    // 0 on the first live tile
            l[r] = l[r] * corr + warp_sum(p);
#pragma unroll
            for (int t = 0; t < ATT_DT; t++) acc[r][t] *= corr;
            for (int j = 0; j < ATT_TILE; j++) {
                float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
                for (int t = 0; t < ATT_DT; t++) {
                    int d = lane + 32 * t;
                    if (d < D) acc[r][t] = fmaf(pj, Vs[j * D + d], acc[r][t]);
                }
            }
            m[r] = mnew;
        }
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        int row = row0 + warp * ATT_ROWS + r;
        if (row >= Nq) continue;
        float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
        T* orow = o + row_offset(ql, b, h, row);
#pragma unroll
        for (int t = 0; t < ATT_DT; t++) {
            int d = lane + 32 * t;
            if (d < D) orow[d] = from_f32<T>(acc[r][t] * inv);
        }
        if (lane == 0) lse[(long long)bh * Nq + row] = l[r] > 0.f ? m[r] + logf(l[r]) : -INFINITY;
    }
}

// delta[bh, i] = sum_d dO[i, d] * O[i, d], the row term of the softmax backward.
// Launch: block 128 (one warp per row), grid (ceil(Nq / 4), B*H).
template <typename T>
__device__ void attention_backward_delta_impl(const T* o, const T* dout, float* delta, int H, int Nq, int D, AttnLayout ql) {
    int bh = blockIdx.y, b = bh / H, h = bh % H;
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= Nq) return;
    long long off = row_offset(ql, b, h, row);
    float s = 0.f;
    for (int d = lane; d < D; d += 32) s += to_f32(o[off + d]) * to_f32(dout[off + d]);
    s = warp_sum(s);
    if (lane == 0) delta[(long long)bh * Nq + row] = s;
}

// dQ_i = scale * sum_j P_ij (dO_i·V_j - delta_i) K_j, iterating over key tiles (one row per warp slot).
template <typename T>
__device__ void attention_backward_dq_impl(const T* q, const T* k, const T* v, const T* dout, const float* lse,
                                           const float* delta, T* dq, int H, int Nq, int Nk, int D, AttnLayout ql,
                                           AttnLayout kl, float scale, int causal) {
    SDJ_DYNAMIC_SHARED(float, smem);
    const int ldk = D + 1;
    float* Ks = smem;
    float* Vs = Ks + ATT_TILE * ldk;
    float* Qs = Vs + ATT_TILE * ldk;
    float* dOs = Qs + ATT_BLOCK_ROWS * D;
    int bh = blockIdx.y, b = bh / H, h = bh % H;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int row0 = blockIdx.x * ATT_BLOCK_ROWS;
    stage_rows(Qs, D, q, ql, b, h, row0, ATT_BLOCK_ROWS, Nq, D);
    stage_rows(dOs, D, dout, ql, b, h, row0, ATT_BLOCK_ROWS, Nq, D);

    float rowLse[ATT_ROWS], rowDelta[ATT_ROWS], acc[ATT_ROWS][ATT_DT];
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        int row = row0 + warp * ATT_ROWS + r;
        rowLse[r] = row < Nq ? lse[(long long)bh * Nq + row] : -INFINITY;
        rowDelta[r] = row < Nq ? delta[(long long)bh * Nq + row] : 0.f;
#pragma unroll
        for (int t = 0; t < ATT_DT; t++) acc[r][t] = 0.f;
    }
    int kEnd = causal ? min(Nk, row0 + ATT_BLOCK_ROWS) : Nk;
    for (int kt = 0; kt < kEnd; kt += ATT_TILE) {
        __syncthreads();
        stage_rows(Ks, ldk, k, kl, b, h, kt, ATT_TILE, Nk, D);
        stage_rows(Vs, ldk, v, kl, b, h, kt, ATT_TILE, Nk, D);
        __syncthreads();
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            int lr = warp * ATT_ROWS + r, row = row0 + lr;
            if (row >= Nq || rowLse[r] == -INFINITY) continue;
            int key = kt + lane;
            float ds = 0.f;
            if (key < Nk && !(causal && key > row)) {
                float p = expf(scale * dot_smem(Qs + lr * D, Ks + lane * ldk, D) - rowLse[r]);
                float dp = dot_smem(dOs + lr * D, Vs + lane * ldk, D);
                ds = p * (dp - rowDelta[r]);
            }
            for (int j = 0; j < ATT_TILE; j++) {
                float dsj = __shfl_sync(0xffffffffu, ds, j);
#pragma unroll
                for (int t = 0; t < ATT_DT; t++) {
                    int d = lane + 32 * t;
                    if (d < D) acc[r][t] = fmaf(dsj, Ks[j * ldk + d], acc[r][t]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        int row = row0 + warp * ATT_ROWS + r;
        if (row >= Nq) continue;
        T* out = dq + row_offset(ql, b, h, row);
#pragma unroll
        for (int t = 0; t < ATT_DT; t++) {
            int d = lane + 32 * t;
            if (d < D) out[d] = from_f32<T>(scale * acc[r][t]);
        }
    }
}

// dV_j = sum_i P_ij dO_i and dK_j = scale * sum_i dS_ij Q_i, iterating over query tiles with one
// key row per warp slot (so no atomics: each dK/dV row has a single owner).
template <typename T>
__device__ void attention_backward_dkdv_impl(const T* q, const T* k, const T* v, const T* dout, const float* lse,
                                             const float* delta, T* dk, T* dv, int H, int Nq, int Nk, int D,
                                             AttnLayout ql, AttnLayout kl, float scale, int causal) {
    SDJ_DYNAMIC_SHARED(float, smem);
    const int ldq = D + 1;
    float* Qs = smem;
    float* dOs = Qs + ATT_TILE * ldq;
    float* lseS = dOs + ATT_TILE * ldq;
    float* deltaS = lseS + ATT_TILE;
    float* Ks = deltaS + ATT_TILE;
    float* Vs = Ks + ATT_BLOCK_ROWS * D;
    int bh = blockIdx.y, b = bh / H, h = bh % H;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int key0 = blockIdx.x * ATT_BLOCK_ROWS;
    stage_rows(Ks, D, k, kl, b, h, key0, ATT_BLOCK_ROWS, Nk, D);
    stage_rows(Vs, D, v, kl, b, h, key0, ATT_BLOCK_ROWS, Nk, D);

    float dkAcc[ATT_ROWS][ATT_DT], dvAcc[ATT_ROWS][ATT_DT];
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++)
#pragma unroll
        for (int t = 0; t < ATT_DT; t++) dkAcc[r][t] = dvAcc[r][t] = 0.f;

    int qStart = causal ? (key0 / ATT_TILE) * ATT_TILE : 0;
    for (int qt = qStart; qt < Nq; qt += ATT_TILE) {
        __syncthreads();
        stage_rows(Qs, ldq, q, ql, b, h, qt, ATT_TILE, Nq, D);
        stage_rows(dOs, ldq, dout, ql, b, h, qt, ATT_TILE, Nq, D);
        if (threadIdx.x < ATT_TILE) {
            int i = qt + threadIdx.x;
            lseS[threadIdx.x] = i < Nq ? lse[(long long)bh * Nq + i] : -INFINITY;
            deltaS[threadIdx.x] = i < Nq ? delta[(long long)bh * Nq + i] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            int lr = warp * ATT_ROWS + r, key = key0 + lr;
            if (key >= Nk) continue;
            int i = qt + lane;
            float p = 0.f, ds = 0.f;
            if (i < Nq && !(causal && key > i) && lseS[lane] != -INFINITY) {
                p = expf(scale * dot_smem(Qs + lane * ldq, Ks + lr * D, D) - lseS[lane]);
                float dp = dot_smem(dOs + lane * ldq, Vs + lr * D, D);
                ds = p * (dp - deltaS[lane]);
            }
            for (int j = 0; j < ATT_TILE; j++) {
                float pj = __shfl_sync(0xffffffffu, p, j);
                float dsj = __shfl_sync(0xffffffffu, ds, j);
#pragma unroll
                for (int t = 0; t < ATT_DT; t++) {
                    int d = lane + 32 * t;
                    if (d < D) {
                        dvAcc[r][t] = fmaf(pj, dOs[j * ldq + d], dvAcc[r][t]);
                        dkAcc[r][t] = fmaf(dsj, Qs[j * ldq + d], dkAcc[r][t]);
                    }
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        int key = key0 + warp * ATT_ROWS + r;
        if (key >= Nk) continue;
        long long off = row_offset(kl, b, h, key);
#pragma unroll
        for (int t = 0; t < ATT_DT; t++) {
            int d = lane + 32 * t;
            if (d < D) {
                dk[off + d] = from_f32<T>(scale * dkAcc[r][t]);
                dv[off + d] = from_f32<T>(dvAcc[r][t]);
            }
        }
    }
}

#define LAYOUT_PARAMS(p) long long p##sB, long long p##sH, long long p##sN
#define LAYOUT(p) AttnLayout{p##sB, p##sH, p##sN}

#define ATTENTION_ENTRIES(suffix, T)                                                                              \
    extern "C" __global__ void __launch_bounds__(128) attention_forward_##suffix(                                \
            const T* q, const T* k, const T* v, T* o, float* lse, int H, int Nq, int Nk, int D, LAYOUT_PARAMS(q), \
            LAYOUT_PARAMS(k), float scale, int causal) {                                                          \
        attention_forward_impl<T>(q, k, v, o, lse, H, Nq, Nk, D, LAYOUT(q), LAYOUT(k), scale, causal);            \
    }                                                                                                             \
    extern "C" __global__ void attention_backward_delta_##suffix(const T* o, const T* dout, float* delta, int H,  \
                                                                 int Nq, int D, LAYOUT_PARAMS(q)) {               \
        attention_backward_delta_impl<T>(o, dout, delta, H, Nq, D, LAYOUT(q));                                    \
    }                                                                                                             \
    extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_##suffix(                            \
            const T* q, const T* k, const T* v, const T* dout, const float* lse, const float* delta, T* dq, int H, \
            int Nq, int Nk, int D, LAYOUT_PARAMS(q), LAYOUT_PARAMS(k), float scale, int causal) {                 \
        attention_backward_dq_impl<T>(q, k, v, dout, lse, delta, dq, H, Nq, Nk, D, LAYOUT(q), LAYOUT(k), scale,   \
                                      causal);                                                                    \
    }                                                                                                             \
    extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_##suffix(                          \
            const T* q, const T* k, const T* v, const T* dout, const float* lse, const float* delta, T* dk, T* dv, \
            int H, int Nq, int Nk, int D, LAYOUT_PARAMS(q), LAYOUT_PARAMS(k), float scale, int causal) {          \
        attention_backward_dkdv_impl<T>(q, k, v, dout, lse, delta, dk, dv, H, Nq, Nk, D, LAYOUT(q), LAYOUT(k),   \
                                        scale, causal);                                                           \
    }
FOR_EACH_DTYPE(ATTENTION_ENTRIES)
