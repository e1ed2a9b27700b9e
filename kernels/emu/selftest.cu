// Kernels that test the emulator's own runtime (EmulatorRuntimeTest), built by build-emu.sh only:
// they exercise what our real kernels rely on implicitly, so a change to runtime.cpp that breaks it
// fails here with a name rather than somewhere inside attention.
#include "common.cuh"

// out[t] = sum over the block of (t + 1), through block_sum (warp shuffles + __syncthreads). Needs
// whole warps: with a partial last warp its shuffles read lanes that do not exist.
extern "C" __global__ void block_sum_test(float* out) {
    __shared__ float scratch[32];
    out[blockIdx.x * blockDim.x + threadIdx.x] = block_sum((float)(threadIdx.x + 1), scratch);
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
