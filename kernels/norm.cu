// LayerNorm over the last dim and GroupNorm over [N, C, H*W] (optionally fused with SiLU, the
// GroupNorm→SiLU pair every SD ResBlock runs). fp32 statistics, two passes (mean, then centred
// variance) for accuracy; mean and rstd are saved for the backward pass.
// gamma/beta may be null (no affine). Parameter gradients are fp32 and computed without atomics:
// each kernel writes fp32 partial sums per chunk of rows (LayerNorm) or per sample (GroupNorm), and
// the host adds the chunks with sum_keep_middle (reduce.cu). Every sum has a fixed order, so dgamma
// and dbeta are bit-identical from run to run.
// CPU twin: sdj.backend.cpu.CpuNorm (group_norm, group_norm + SiLU, layer_norm); the CUDA tests compare the two.
#include "common.cuh"

// Launch: one block per row (grid = rows), 256 threads.
template <typename T>
__device__ void layer_norm_forward_impl(const T* x, const T* gamma, const T* beta, T* y, float* mean_out,
                                        float* rstd_out, long long cols, float eps) {
    __shared__ float scratch[32];
    long long base = blockIdx.x * cols;
    float s = 0.f;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += to_f32(x[base + c]);
    float mean = block_sum(s, scratch) / cols;
    float v = 0.f;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) { float d = to_f32(x[base + c]) - mean; v += d * d; }
    float rstd = rsqrtf(block_sum(v, scratch) / cols + eps);
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
        float h = (to_f32(x[base + c]) - mean) * rstd;
        float g = gamma ? to_f32(gamma[c]) : 1.f, b = beta ? to_f32(beta[c]) : 0.f;
        y[base + c] = from_f32<T>(h * g + b);
    }
    if (threadIdx.x == 0) { mean_out[blockIdx.x] = mean; rstd_out[blockIdx.x] = rstd; }
}

// dx = rstd * (dh - mean(dh) - h * mean(dh * h)) with dh = dy * gamma. dgamma/dbeta come from
// layer_norm_param_grads. Launch: one block per row, 256 threads.
template <typename T>
__device__ void layer_norm_backward_impl(const T* x, const T* gamma, const float* mean_in, const float* rstd_in,
                                         const T* dy, T* dx, long long cols) {
    __shared__ float scratch[32];
    long long base = blockIdx.x * cols;
    float mean = mean_in[blockIdx.x], rstd = rstd_in[blockIdx.x];
    float sum_dh = 0.f, sum_dh_h = 0.f;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
        float h = (to_f32(x[base + c]) - mean) * rstd;
        float dh = to_f32(dy[base + c]) * (gamma ? to_f32(gamma[c]) : 1.f);
        sum_dh += dh;
        sum_dh_h += dh * h;
    }
    float mdh = block_sum(sum_dh, scratch) / cols;
    float mdhh = block_sum(sum_dh_h, scratch) / cols;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
        float h = (to_f32(x[base + c]) - mean) * rstd;
        float dh = to_f32(dy[base + c]) * (gamma ? to_f32(gamma[c]) : 1.f);
        dx[base + c] = from_f32<T>(rstd * (dh - mdh - h * mdhh));
    }
}

// Column sums of LayerNorm's parameter gradients over one chunk of rows:
//   dgamma_part[chunk, c] = sum of dy * h,  dbeta_part[chunk, c] = sum of dy  over rows of the chunk.
// Block (tile, chunk) owns columns tile*32 + lane: each warp reads 32 adjacent columns of a row
// (coalesced) and steps over the chunk's rows 8 apart; warp 0 then adds the 8 warps' sums in order.
// Launch: grid (ceil(cols/32), chunks), 256 threads.
#define LN_WARPS 8
template <typename T>
__device__ void layer_norm_param_grads_impl(const T* x, const float* mean_in, const float* rstd_in, const T* dy,
                                            float* dgamma_part, float* dbeta_part, long long rows, long long cols,
                                            long long rows_per_chunk) {
    __shared__ float sg[LN_WARPS][32], sb[LN_WARPS][32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    long long c = blockIdx.x * 32LL + lane;
    long long r0 = blockIdx.y * rows_per_chunk, r1 = r0 + rows_per_chunk < rows ? r0 + rows_per_chunk : rows;
    float g = 0.f, b = 0.f;
    if (c < cols) {
        for (long long r = r0 + warp; r < r1; r += LN_WARPS) {
            long long p = r * cols + c;
            float d = to_f32(dy[p]);
            g += d * ((to_f32(x[p]) - mean_in[r]) * rstd_in[r]);
            b += d;
        }
    }
    sg[warp][lane] = g;
    sb[warp][lane] = b;
    __syncthreads();
    if (warp == 0 && c < cols) {
        for (int w = 1; w < LN_WARPS; w++) { g += sg[w][lane]; b += sb[w][lane]; }
        dgamma_part[blockIdx.y * cols + c] = g;
        dbeta_part[blockIdx.y * cols + c] = b;
    }
}

// x is [N, C, HW]; group g of sample n covers channels [g*C/G, (g+1)*C/G), contiguous in memory.
// y = act(h * gamma[c] + beta[c]) with act = SiLU when `silu` != 0. Launch: grid = N*G, 256 threads.
template <typename T>
__device__ void group_norm_forward_impl(const T* x, const T* gamma, const T* beta, T* y, float* mean_out,
                                        float* rstd_out, int C, long long HW, int G, float eps, int silu) {
    __shared__ float scratch[32];
    int ng = blockIdx.x, g = ng % G, cpg = C / G;
    long long count = (long long)cpg * HW, base = (long long)ng * count;
    float s = 0.f;
    for (long long i = threadIdx.x; i < count; i += blockDim.x) s += to_f32(x[base + i]);
    float mean = block_sum(s, scratch) / count;
    float v = 0.f;
    for (long long i = threadIdx.x; i < count; i += blockDim.x) { float d = to_f32(x[base + i]) - mean; v += d * d; }
    float rstd = rsqrtf(block_sum(v, scratch) / count + eps);
    for (long long i = threadIdx.x; i < count; i += blockDim.x) {
        int c = g * cpg + (int)(i / HW);
        float z = (to_f32(x[base + i]) - mean) * rstd * (gamma ? to_f32(gamma[c]) : 1.f) + (beta ? to_f32(beta[c]) : 0.f);
        y[base + i] = from_f32<T>(silu ? z * sigmoid_f(z) : z);
    }
    if (threadIdx.x == 0) { mean_out[ng] = mean; rstd_out[ng] = rstd; }
}

// Backward of group_norm_forward (recomputing the pre-SiLU value when fused). Per channel of the
// group the block reduces dz*h and dz and writes them to dgamma_part/dbeta_part [N, C] (fp32; may be
// null); the host sums them over N. Launch: grid = N*G, 256 threads.
template <typename T>
__device__ void group_norm_backward_impl(const T* x, const T* gamma, const T* beta, const float* mean_in,
                                         const float* rstd_in, const T* dy, T* dx, float* dgamma_part,
                                         float* dbeta_part, int C, long long HW, int G, int silu) {
    __shared__ float scratch[32];
    int ng = blockIdx.x, g = ng % G, cpg = C / G;
    long long count = (long long)cpg * HW, base = (long long)ng * count;
    float mean = mean_in[ng], rstd = rstd_in[ng];
    float sum_dh = 0.f, sum_dh_h = 0.f;  // block totals, identical in every thread
    for (int cc = 0; cc < cpg; cc++) {
        int c = g * cpg + cc;
        float gm = gamma ? to_f32(gamma[c]) : 1.f, bt = beta ? to_f32(beta[c]) : 0.f;
        float dzh = 0.f, dzs = 0.f;
        for (long long i = threadIdx.x; i < HW; i += blockDim.x) {
            long long p = base + (long long)cc * HW + i;
            float h = (to_f32(x[p]) - mean) * rstd;
            float dz = to_f32(dy[p]);
            if (silu) { float z = h * gm + bt, s = sigmoid_f(z); dz *= s * (1.f + z * (1.f - s)); }
            dzh += dz * h;
            dzs += dz;
        }
        dzh = block_sum(dzh, scratch);
        dzs = block_sum(dzs, scratch);
        sum_dh += dzs * gm;
        sum_dh_h += dzh * gm;
        if (threadIdx.x == 0) {
            long long nc = (long long)(ng / G) * C + c;
            if (dgamma_part) dgamma_part[nc] = dzh;
            if (dbeta_part) dbeta_part[nc] = dzs;
        }
    }
    float mdh = sum_dh / count, mdhh = sum_dh_h / count;
    for (long long i = threadIdx.x; i < count; i += blockDim.x) {
        int c = g * cpg + (int)(i / HW);
        float gm = gamma ? to_f32(gamma[c]) : 1.f, bt = beta ? to_f32(beta[c]) : 0.f;
        float h = (to_f32(x[base + i]) - mean) * rstd;
        float dz = to_f32(dy[base + i]);
        if (silu) { float z = h * gm + bt, s = sigmoid_f(z); dz *= s * (1.f + z * (1.f - s)); }
        dx[base + i] = from_f32<T>(rstd * (dz * gm - mdh - h * mdhh));
    }
}

#define NORM_ENTRIES(suffix, T)                                                                                 \
    extern "C" __global__ void layer_norm_forward_##suffix(const T* x, const T* gamma, const T* beta, T* y,     \
                                                           float* mean, float* rstd, long long cols, float eps) { \
        layer_norm_forward_impl<T>(x, gamma, beta, y, mean, rstd, cols, eps);                                   \
    }                                                                                                           \
    extern "C" __global__ void layer_norm_backward_##suffix(const T* x, const T* gamma, const float* mean,     \
                                                            const float* rstd, const T* dy, T* dx,              \
                                                            long long cols) {                                   \
        layer_norm_backward_impl<T>(x, gamma, mean, rstd, dy, dx, cols);                                        \
    }                                                                                                           \
    extern "C" __global__ void layer_norm_param_grads_##suffix(const T* x, const float* mean, const float* rstd, \
                                                               const T* dy, float* dgamma_part,                 \
                                                               float* dbeta_part, long long rows,               \
                                                               long long cols, long long rows_per_chunk) {      \
        layer_norm_param_grads_impl<T>(x, mean, rstd, dy, dgamma_part, dbeta_part, rows, cols, rows_per_chunk);  \
    }                                                                                                           \
    extern "C" __global__ void group_norm_forward_##suffix(const T* x, const T* gamma, const T* beta, T* y,     \
                                                           float* mean, float* rstd, int C, long long HW,       \
                                                           int G, float eps, int silu) {                        \
        group_norm_forward_impl<T>(x, gamma, beta, y, mean, rstd, C, HW, G, eps, silu);                         \
    }                                                                                                           \
    extern "C" __global__ void group_norm_backward_##suffix(const T* x, const T* gamma, const T* beta,         \
                                                            const float* mean, const float* rstd, const T* dy,  \
                                                            T* dx, float* dgamma_part, float* dbeta_part,       \
                                                            int C, long long HW, int G, int silu) {             \
        group_norm_backward_impl<T>(x, gamma, beta, mean, rstd, dy, dx, dgamma_part, dbeta_part, C, HW, G, silu); \
    }
FOR_EACH_DTYPE(NORM_ENTRIES)
