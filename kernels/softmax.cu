// Row softmax over the last dim of a [rows, cols] tensor, fp32 math, numerically stable (max
// subtracted). Launch: one block per row (grid = rows), 256 threads striding over the columns.
// CPU twin: sdj.backend.cpu.CpuSoftmax; the CUDA tests compare the two.
#include "common.cuh"

// y = softmax(scale * x) along each row.
template <typename T>
__device__ void softmax_forward_impl(const T* x, T* y, long long cols, float scale) {
    __shared__ float scratch[32];
    const T* xr = x + blockIdx.x * cols;
    T* yr = y + blockIdx.x * cols;
    float m = -INFINITY;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, scale * to_f32(xr[c]));
    m = block_max(m, scratch);
    if (m == -INFINITY) {  // block-uniform, so no thread skips a barrier
        // A row of only -inf (fully masked) attends to nothing: zeros as in sdj.ops.Softmax, not 0/0.
        // Backward then gives zeros too (y = 0).
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = from_f32<T>(0.f);
        return;
    }
    float s = 0.f;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += expf(scale * to_f32(xr[c]) - m);
    s = block_sum(s, scratch);
    float inv = 1.f / s;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = from_f32<T>(expf(scale * to_f32(xr[c]) - m) * inv);
}

// dx = scale * y * (dy - sum(y * dy)) along each row, from the forward output y.
template <typename T>
__device__ void softmax_backward_impl(const T* y, const T* dy, T* dx, long long cols, float scale) {
    __shared__ float scratch[32];
    long long base = blockIdx.x * cols;
    float dot = 0.f;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) dot += to_f32(y[base + c]) * to_f32(dy[base + c]);
    dot = block_sum(dot, scratch);
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
        float yv = to_f32(y[base + c]);
        dx[base + c] = from_f32<T>(scale * yv * (to_f32(dy[base + c]) - dot));
    }
}

#define SOFTMAX_ENTRIES(suffix, T)                                                                            \
    extern "C" __global__ void softmax_forward_##suffix(const T* x, T* y, long long cols, float scale) {     \
        softmax_forward_impl<T>(x, y, cols, scale);                                                          \
    }                                                                                                        \
    extern "C" __global__ void softmax_backward_##suffix(const T* y, const T* dy, T* dx, long long cols,     \
                                                         float scale) {                                      \
        softmax_backward_impl<T>(y, dy, dx, cols, scale);                                                    \
    }
FOR_EACH_DTYPE(SOFTMAX_ENTRIES)
