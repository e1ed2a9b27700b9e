// Nearest-neighbour upsampling of [NC, H, W] by an integer factor s (SD uses s = 2):
// out[nc, y, x] = in[nc, y / s, x / s]. Backward sums each s×s output patch into its source pixel
// (a gather, so no atomics and a deterministic result).
// Launch for both: 1-D grid-stride, 256 threads; forward over output elements, backward over inputs.
// CPU twin: sdj.backend.cpu.CpuLookup.upsampleNearest2x; the CUDA tests compare the two.
#include "common.cuh"

template <typename T>
__device__ void upsample_nearest_forward_impl(const T* in, T* out, long long NC, int H, int W, int s) {
    long long Ho = (long long)H * s, Wo = (long long)W * s;
    FOR_EACH_INDEX(i, NC * Ho * Wo) {
        long long xo = i % Wo, yo = (i / Wo) % Ho, nc = i / (Wo * Ho);
        out[i] = in[(nc * H + yo / s) * W + xo / s];
    }
}

template <typename T>
__device__ void upsample_nearest_backward_impl(const T* dout, T* din, long long NC, int H, int W, int s) {
    long long Wo = (long long)W * s;
    FOR_EACH_INDEX(i, NC * H * W) {
        long long x = i % W, y = (i / W) % H, nc = i / ((long long)W * H);
        const T* src = dout + (nc * H * s + y * s) * Wo + x * s;
        float acc = 0.f;
        for (int dy = 0; dy < s; dy++)
            for (int dx = 0; dx < s; dx++) acc += to_f32(src[dy * Wo + dx]);
        din[i] = from_f32<T>(acc);
    }
}

#define UPSAMPLE_ENTRIES(suffix, T)                                                                              \
    extern "C" __global__ void upsample_nearest_forward_##suffix(const T* in, T* out, long long NC, int H, int W, \
                                                                 int s) {                                        \
        upsample_nearest_forward_impl<T>(in, out, NC, H, W, s);                                                  \
    }                                                                                                            \
    extern "C" __global__ void upsample_nearest_backward_##suffix(const T* dout, T* din, long long NC, int H,    \
                                                                  int W, int s) {                                \
        upsample_nearest_backward_impl<T>(dout, din, NC, H, W, s);                                               \
    }
FOR_EACH_DTYPE(UPSAMPLE_ENTRIES)
