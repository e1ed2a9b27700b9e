// Kernels that test the emulator's own runtime (EmulatorRuntimeTest), built by build-emu.sh only:
// they exercise what our real kernels rely on implicitly, so a change to runtime.cpp that breaks it
// fails here with a name rather than somewhere inside attention.
#include "common.cuh"
#include <mma.h>

// out[t] = sum over the block of (t + 1), through block_sum (warp shuffles + __syncthreads). Needs
// whole warps: with a partial last warp its shuffles read lanes that do not exist.
extern "C" __global__ void block_sum_test(float* out) {
    __shared__ float scratch[32];
    out[blockIdx.x * blockDim.x + threadIdx.x] = block_sum((float)(threadIdx.x + 1), scratch);
}

// Each block claims a __shared__ word and checks, across many barriers, that no other block wrote it:
// out[block] counts the rounds in which it found another block's index there (0 when blocks running
// on different emulator workers each have their own shared memory, as blocks on different SMs do).
extern "C" __global__ void shared_per_block_test(int* out, int rounds) {
    __shared__ int owner;
    int clashes = 0;
    for (int r = 0; r < rounds; r++) {
        if (threadIdx.x == 0) owner = (int)blockIdx.x;
        __syncthreads();
        clashes += owner != (int)blockIdx.x;
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = clashes;
}

// Lane l of each warp gets lane (l + 1) % 32's value after `rounds` shuffles, then lanes exit in
// lane order while others still read: the source of a shuffle must not depend on who has exited.
extern "C" __global__ void rotate_then_exit_test(int* out, int rounds) {
    int lane = threadIdx.x & 31;
    int v = threadIdx.x;
    for (int r = 0; r < rounds; r++) v = __shfl_sync(0xffffffffu, v, (lane + 1) & 31);
    out[threadIdx.x] = v;
}

// Lane 0 of each warp waits at __syncthreads while the other lanes wait in a shuffle for lane 0: a GPU
// hangs (or worse); the emulator must report it. (Threads that exit do not block a barrier, as on
// Volta and later, so a barrier some threads skip entirely is not a deadlock.)
extern "C" __global__ void divergent_barrier_test(int* out) {
    int v = threadIdx.x;
    if ((threadIdx.x & 31) == 0) __syncthreads();
    else v = __shfl_sync(0xffffffffu, v, 0);
    out[threadIdx.x] = v;
}

// Lane l of each warp reads, through shared memory, what lane (l + 1) % 32 wrote just before a
// __syncwarp: without the warp barrier the emulator's fibers (run in lane order) would read the slot
// before its owner wrote it. `salt` makes every launch's values new.
extern "C" __global__ void syncwarp_rotate_test(int* out, int salt) {
    __shared__ int slot[1024];
    int t = threadIdx.x;
    slot[t] = t + salt;
    __syncwarp();
    out[t] = slot[(t & ~31) | ((t + 1) & 31)];
}

// One warp: C = A·B for 16×16 fp16 tiles of ones read from `offset` bytes into a 128-byte aligned
// shared array with leading dimension `ldm` (so every element of C is 16). Only offset % 32 == 0 and
// ldm % 8 == 0 are legal WMMA calls; the emulator must fail the launch for the others.
extern "C" __global__ void wmma_load_test(float* out, int offset, int ldm) {
    using namespace nvcuda;
    __shared__ __align__(128) __half tile[32 * 64];
    __shared__ __align__(128) float c[16 * 16];
    for (int i = threadIdx.x; i < 32 * 64; i += blockDim.x) tile[i] = __float2half(1.f);
    __syncwarp();
    const __half* p = reinterpret_cast<const __half*>(reinterpret_cast<const char*>(tile) + offset);
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::load_matrix_sync(a, p, ldm);
    wmma::load_matrix_sync(b, p, ldm);
    wmma::fill_fragment(acc, 0.f);
    wmma::mma_sync(acc, a, b, acc);
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_row_major);
    __syncwarp();
    for (int i = threadIdx.x; i < 256; i += 32) out[i] = c[i];
}
