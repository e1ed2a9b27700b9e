// Shared device helpers for every kernel family: dtype conversion and warp/block reductions.
// Storage types are float, __half and __nv_bfloat16; all arithmetic is fp32.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the whole block; every thread gets the result. `scratch` needs 32 floats.
// Contains __syncthreads, so every thread of the block must call it.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

__device__ __forceinline__ float sigmoid_f(float x) { return 1.f / (1.f + expf(-x)); }

// Grid-stride loop over n elements (n may exceed 2^31 for large activations).
#define FOR_EACH_INDEX(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

// Emits three extern "C" entry points name_f32/_f16/_bf16 from one templated body `name##_impl<T>`.
#define FOR_EACH_DTYPE(M) M(f32, float) M(f16, __half) M(bf16, __nv_bfloat16)

// The launch's dynamic shared memory as a T*. A macro because the host emulator (emu/cuda_emu.h,
// which defines it first) cannot express an `extern __shared__` array.
// Without a declared alignment a GPU guarantees 16 bytes; WMMA tiles need 32, so kernels carving
// them out of dynamic shared memory use the _ALIGNED form (a name of its own per declaration type:
// every extern __shared__ array of a translation unit names the same memory).
#ifndef SDJ_DYNAMIC_SHARED
#define SDJ_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#define SDJ_DYNAMIC_SHARED_ALIGNED(T, name, align) extern __shared__ __align__(align) T name[]
#endif
