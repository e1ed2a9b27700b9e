// Host emulation of the CUDA C++ our kernels use, so that kernels/*.cu compile with g++ and run on the
// CPU for tests on machines without a GPU (force-included by build-emu.sh, never by nvcc).
//
// The model: each thread of a block is a fiber (runtime.cpp) that runs until it reaches
// __syncthreads() or a warp shuffle, where it waits for the others. Blocks are shared out to worker
// threads, one block per worker at a time, so __shared__ variables become thread_local statics (one
// copy per worker, shared by the fibers of its block), and threadIdx/blockIdx are thread_locals the
// worker's scheduler sets before it resumes a fiber. Arithmetic is the host's (libm's expf, not the
// GPU's), so results agree with a GPU to rounding, not bit for bit. Not emulated: the memory model
// (the fibers of a block never race), warp divergence, and timing.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

// cuda_fp16.h brought CUDA's own host definitions of these keywords; ours replace them.
#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __forceinline__
#undef __launch_bounds__
#undef __align__
#define __global__ __attribute__((visibility("default")))
#define __device__
#define __host__
#define __shared__ static thread_local
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

struct sdj_uint3 {
    unsigned int x, y, z;
};

// threadIdx and blockIdx are set by a worker thread's scheduler for the fiber it resumes (each worker
// runs its own block); blockDim and gridDim are the launch's.
extern thread_local sdj_uint3 threadIdx, blockIdx;
extern sdj_uint3 blockDim, gridDim;

void __syncthreads();
// A barrier among the live lanes of the caller's warp (a shuffle is one too); the mask is not
// emulated, so our kernels only pass the full warp.
void __syncwarp(unsigned mask = 0xffffffffu);
float sdj_emu_shfl(float v, int src_lane);      // src_lane outside the warp returns v
int sdj_emu_shfl(int v, int src_lane);
// The launch's dynamic shared memory, aligned to exactly `align` bytes (address = align mod 2*align),
// no more: a kernel that assumes more alignment than it declared fails here as it could on a GPU.
void* sdj_emu_dynamic_shared(int align);
// Records undefined behaviour the kernel showed (the first one per launch); the launch then fails
// with this message (and the thread and block) instead of returning results.
void sdj_emu_fail(const char* what);
// Warp-collective: lane l contributes part[0, per_lane) at all[l*per_lane]; every lane gets `all`.
void sdj_emu_warp_gather(const float* part, int per_lane, float* all);

inline int sdj_emu_lane() { return (int)(threadIdx.x & 31); }

template <typename T> inline T __shfl_sync(unsigned, T v, int src_lane, int = 32) {
    return sdj_emu_shfl(v, src_lane & 31);
}
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int lane_mask, int = 32) {
    return sdj_emu_shfl(v, sdj_emu_lane() ^ lane_mask);
}
template <typename T> inline T __shfl_down_sync(unsigned, T v, unsigned delta, int = 32) {
    int src = sdj_emu_lane() + (int)delta;
    return sdj_emu_shfl(v, src < 32 ? src : sdj_emu_lane());
}

// Blocks run on several worker threads at once, so this is a real atomic (a compare-and-swap loop).
inline float atomicAdd(float* p, float v) {
    float old, sum;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    do {
        sum = old + v;
    } while (!__atomic_compare_exchange(p, &old, &sum, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
}

inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
using std::isinf;  // CUDA's device isnan/isinf are global; <cmath> puts them in std only
using std::isnan;
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

// A GPU guarantees 16-byte alignment for an undecorated extern __shared__ array.
#define SDJ_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(sdj_emu_dynamic_shared(16))
#define SDJ_DYNAMIC_SHARED_ALIGNED(T, name, align) T* name = static_cast<T*>(sdj_emu_dynamic_shared(align))
