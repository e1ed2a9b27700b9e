// Fused scaled-dot-product attention, flash style: softmax(scale · Q·Kᵀ [+ causal mask]) · V computed
// tile by tile with an online softmax, so no Nq×Nk matrix ever exists in memory. The forward pass
// saves the row log-sum-exp (fp32, [B*H, Nq]) that the backward pass uses to rebuild probabilities.
//
// Layout: Q/O (and dQ) are [B, H, Nq, D] views and K/V (and dK/dV) are [B, H, Nk, D] views given
// by element strides (sB, sH, sN) with the D axis contiguous; so both [B, H, N, D] tensors and the
// [B, N, H*D] output of a linear layer are read in place. D <= 256 (SD v1 uses 40, 80 and 160).
// Causal masking is top-left aligned: query i sees keys j <= i.
//
// Two forward kernels with the same contract: attention_forward_tc_f16/_bf16 (tensor cores, WMMA,
// further down) for fp16/bf16, and the SIMT attention_forward for fp32 (its _f16/_bf16 instances
// remain, unrouted, as a reference). The backward kernels are SIMT for every dtype and rebuild P from
// the saved lse, so either forward feeds them.
//
// SIMT launch (attention_forward and the backward dq/dkdv): block 128 threads = 4 warps, each warp
// owns 4 rows (16 rows per block); grid (ceil(rows / 16), B*H). Tiles of 32 keys (or queries) are
// staged in shared memory as fp32; inside a tile each lane owns one key for the dot products, then owns output columns
// d = lane + 32t for the accumulation. Dynamic shared memory, in floats:
//   forward:             32*(D+1) + 32*D + 16*D
//   backward_dq:         2*32*(D+1) + 2*16*D
//   backward_dkdv:       2*32*(D+1) + 64 + 2*16*D
// (the host raises the dynamic limit above 48 KB when D needs it). fp32 accumulation throughout.
// CPU twin: sdj.backend.cpu.CpuAttention (blocked GEMM + softmax, probabilities recomputed in backward); the CUDA tests compare the two.
#include "common.cuh"
#include <mma.h>

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

// ---- Tensor-core forward for fp16/bf16 (WMMA 16×16×16, fp32 accumulators): same contract as
// attention_forward above (O in T, fp32 lse of the scaled scores, layouts, causal convention).
// Block 128 threads = 4 warps; 64 query rows per block (16 per warp), key tiles of 64.
// Grid (ceil(Nq / 64), B*H). Per key tile and warp:
//   S = Q_w · K_tileᵀ (wmma; K row-major in shared memory is Kᵀ as a col_major matrix_b) → smem fp32;
//   online softmax per row (2 lanes per row) → P = exp(s - m_new) in T, O rows rescaled by
//   exp(m_old - m_new); O_w += P · V_tile (wmma, the fp32 accumulator kept in shared memory so the
//   per-row rescale needs no knowledge of the fragment layout).
// D is padded with zeros to Dp = roundup(D, 16). Dynamic shared memory, in bytes (regions in this
// order, each a multiple of 32 bytes from a 128-byte aligned base):
//   O  64 × (Dp+4) fp32 | S 4 × 16 × 68 fp32 | P 4 × 16 × 72 T | Q, K (and V) 64 × (Dp+8) T each
// V has its own buffer unless sharedKV, when it is loaded into K's after the scores (the host sets
// it for Dp > 128 so that D = 256 fits the 163 KB of an A100). Row paddings (+4, +8) keep WMMA's
// 16-byte ldm rule and spread rows over the shared-memory banks. Totals: D=40 60 KB, D=80 80 KB,
// D=160 109 KB (V shares K's buffer), D=256 157 KB. Scores and O accumulate in fp32; P is rounded
// to T for the second product, while l sums the unrounded fp32 p (so lse is exactly the SIMT one's).
#define TC_ROWS 64
#define TC_KEYS 64
#define TC_LDS (TC_KEYS + 4)  // score rows (fp32)
#define TC_LDP (TC_KEYS + 8)  // probability rows (T)

// Rows [row0, row0+64) of a [N, D] head into a [64 × ld] T tile, zeros past N and in columns [D, Dp)
// (padding must be 0, not garbage: 0·NaN would poison the products). One warp per row, lanes along d.
template <typename T>
__device__ void stage_tile_tc(T* dst, int ld, int Dp, const T* src, AttnLayout l, int b, int h, int row0, int N,
                              int D) {
    const T zero = from_f32<T>(0.f);
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    for (int r = warp; r < TC_ROWS; r += warps) {
        int row = row0 + r;
        const T* s = row < N ? src + row_offset(l, b, h, row) : nullptr;
        for (int d = lane; d < Dp; d += 32) dst[r * ld + d] = (s && d < D) ? s[d] : zero;
    }
}

template <typename T>
__device__ void attention_forward_tc_impl(const T* q, const T* k, const T* v, T* o, float* lse, int H, int Nq, int Nk,
                                          int D, AttnLayout ql, AttnLayout kl, float scale, int causal,
                                          int sharedKV) {
    using namespace nvcuda;
    SDJ_DYNAMIC_SHARED_ALIGNED(unsigned char, tc_smem, 128);
    const int Dp = (D + 15) & ~15, ldt = Dp + 8, ldo = Dp + 4;
    float* Os = reinterpret_cast<float*>(tc_smem);
    float* Ss = Os + TC_ROWS * ldo;
    T* Ps = reinterpret_cast<T*>(Ss + 4 * 16 * TC_LDS);
    T* Qs = Ps + 4 * 16 * TC_LDP;
    T* Ks = Qs + TC_ROWS * ldt;
    T* Vs = sharedKV ? Ks : Ks + TC_KEYS * ldt;

    int bh = blockIdx.y, b = bh / H, h = bh % H;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int r = lane & 15, half = lane >> 4;  // this lane's row of the warp's 16, and which half of its keys
    int row0 = blockIdx.x * TC_ROWS, wrow0 = row0 + warp * 16, row = wrow0 + r;
    float* Sw = Ss + warp * 16 * TC_LDS;
    T* Pw = Ps + warp * 16 * TC_LDP;
    float* Ow = Os + warp * 16 * ldo;
    const T* Qw = Qs + warp * 16 * ldt;

    for (int e = threadIdx.x; e < TC_ROWS * ldo; e += blockDim.x) Os[e] = 0.f;
    stage_tile_tc(Qs, ldt, Dp, q, ql, b, h, row0, Nq, D);
    float m = -INFINITY, l = 0.f;  // running max and sum of row `row` (the same in both halves)

    int kEnd = causal ? min(Nk, row0 + TC_ROWS) : Nk;
    for (int kt = 0; kt < kEnd; kt += TC_KEYS) {
        __syncthreads();  // the previous tile is consumed (and Q, O are ready on the first pass)
        stage_tile_tc(Ks, ldt, Dp, k, kl, b, h, kt, Nk, D);
        if (!sharedKV) stage_tile_tc(Vs, ldt, Dp, v, kl, b, h, kt, Nk, D);
        __syncthreads();
        // Warp-uniform: a warp past Nq, or whose rows all precede the tile's first key (causal), has
        // nothing to add (its probabilities would all be 0); it still takes part in the barriers.
        bool live = wrow0 < Nq && !(causal && kt > wrow0 + 15);
        if (live) {
            for (int j = 0; j < TC_KEYS / 16; j++) {
                wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf;
                wmma::fill_fragment(sf, 0.f);
                for (int kk = 0; kk < Dp; kk += 16) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> qa;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kb;
                    wmma::load_matrix_sync(qa, Qw + kk, ldt);
                    wmma::load_matrix_sync(kb, Ks + j * 16 * ldt + kk, ldt);
                    wmma::mma_sync(sf, qa, kb, sf);
                }
                wmma::store_matrix_sync(Sw + j * 16, sf, TC_LDS, wmma::mem_row_major);
            }
            __syncwarp();
            // Lane (r, half) takes columns 2·((c + r) mod 32) + half: the two halves interleave and
            // each row starts at its own offset, so the 32 lanes hit 32 different banks.
            float mx = -INFINITY;
            for (int c = 0; c < 32; c++) {
                int col = 2 * ((c + r) & 31) + half, key = kt + col;
                if (key < Nk && !(causal && key > row)) mx = fmaxf(mx, scale * Sw[r * TC_LDS + col]);
            }
            float mnew = fmaxf(m, fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 16)));
            // No live key yet (mnew = -inf): keep O and l as they are (0) instead of exp(-inf + inf).
            float corr = mnew == -INFINITY ? 1.f : expf(m - mnew);  // 0 on the row's first live tile
            float sum = 0.f;
            for (int c = 0; c < 32; c++) {
                int col = 2 * ((c + r) & 31) + half, key = kt + col;
                float p = 0.f;
                if (key < Nk && !(causal && key > row)) p = expf(scale * Sw[r * TC_LDS + col] - mnew);
                Pw[r * TC_LDP + col] = from_f32<T>(p);
                sum += p;
            }
            l = l * corr + (sum + __shfl_xor_sync(0xffffffffu, sum, 16));
            m = mnew;
            // Rescale the warp's O rows: all 32 lanes along one row at a time (row rr's factor from lane rr).
            __syncwarp();  // the previous tile's O stores are visible to every lane
            for (int rr = 0; rr < 16; rr++) {
                float cr = __shfl_sync(0xffffffffu, corr, rr);
                for (int d = lane; d < Dp; d += 32) Ow[rr * ldo + d] *= cr;
            }
        }
        if (sharedKV) {
            __syncthreads();  // every warp is done with K
            stage_tile_tc(Vs, ldt, Dp, v, kl, b, h, kt, Nk, D);
            __syncthreads();
        }
        if (live) {
            __syncwarp();  // P and the rescaled O rows are written
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pa[TC_KEYS / 16];
            for (int j = 0; j < TC_KEYS / 16; j++) wmma::load_matrix_sync(pa[j], Pw + j * 16, TC_LDP);
            for (int f = 0; f < Dp; f += 16) {
                wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
                wmma::load_matrix_sync(of, Ow + f, ldo, wmma::mem_row_major);
                for (int j = 0; j < TC_KEYS / 16; j++) {
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vb;
                    wmma::load_matrix_sync(vb, Vs + j * 16 * ldt + f, ldt);
                    wmma::mma_sync(of, pa[j], vb, of);
                }
                wmma::store_matrix_sync(Ow + f, of, ldo, wmma::mem_row_major);
            }
        }
    }
    // O is complete and visible to every lane (with no key tile at all, Nk = 0, this also orders the
    // zero fill above, done by other warps' threads, before the reads below).
    __syncthreads();
    float inv = l > 0.f ? 1.f / l : 0.f;
    for (int rr = 0; rr < 16; rr++) {
        float ir = __shfl_sync(0xffffffffu, inv, rr);
        int orow = wrow0 + rr;
        if (orow >= Nq) break;  // warp-uniform
        T* out = o + row_offset(ql, b, h, orow);
        for (int d = lane; d < D; d += 32) out[d] = from_f32<T>(Ow[rr * ldo + d] * ir);
    }
    if (half == 0 && row < Nq) lse[(long long)bh * Nq + row] = l > 0.f ? m + logf(l) : -INFINITY;
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

#define ATTENTION_TC_ENTRY(suffix, T)                                                                              \
    extern "C" __global__ void __launch_bounds__(128) attention_forward_tc_##suffix(                              \
            const T* q, const T* k, const T* v, T* o, float* lse, int H, int Nq, int Nk, int D, LAYOUT_PARAMS(q),  \
            LAYOUT_PARAMS(k), float scale, int causal, int sharedKV) {                                             \
        attention_forward_tc_impl<T>(q, k, v, o, lse, H, Nq, Nk, D, LAYOUT(q), LAYOUT(k), scale, causal, sharedKV); \
    }
ATTENTION_TC_ENTRY(f16, __half)
ATTENTION_TC_ENTRY(bf16, __nv_bfloat16)
