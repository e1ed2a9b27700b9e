// Sum reductions that keep one middle axis: x viewed as [outer, mid, inner], out[m] = sum over
// outer and inner of x[o, m, i] (fp32 out). This one kernel gives
//   sum over the last dim of [rows, cols]:   outer = 1,    mid = rows, inner = cols
//   sum over rows (bias gradient of linear): outer = rows, mid = cols, inner = 1
//   per-channel sum of [N, C, H, W]:          outer = N,    mid = C,    inner = H*W
//   sum of everything:                        outer = 1,    mid = 1,    inner = n
// Launch: one block per mid index (grid = mid), 256 threads; `beta` = 1 accumulates into out.
// CPU twin: sdj.backend.cpu.CpuReduce.sum; the CUDA tests compare the two.
#include "common.cuh"

template <typename T>
__device__ void sum_keep_middle_impl(const T* x, float* out, long long outer, long long mid, long long inner,
                                     float beta) {
    __shared__ float scratch[32];
    long long m = blockIdx.x;
    long long count = outer * inner;
    float acc = 0.f;
    for (long long t = threadIdx.x; t < count; t += blockDim.x) {
        long long o = t / inner, i = t % inner;
        acc += to_f32(x[(o * mid + m) * inner + i]);
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) out[m] = beta != 0.f ? beta * out[m] + acc : acc;  // never read uninitialised memory
}

#define REDUCE_ENTRIES(suffix, T)                                                                        \
    extern "C" __global__ void sum_keep_middle_##suffix(const T* x, float* out, long long outer,        \
                                                        long long mid, long long inner, float beta) {   \
        sum_keep_middle_impl<T>(x, out, outer, mid, inner, beta);                                        \
    }
FOR_EACH_DTYPE(REDUCE_ENTRIES)
