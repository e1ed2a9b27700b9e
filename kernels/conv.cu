// im2col / col2im so that conv2d becomes GEMMs:
//   col[n] is [C*KH*KW, OH*OW] with row (c, ki, kj) and column (oy, ox), holding
//   x[n, c, oy*stride - pad + ki*dil, ox*stride - pad + kj*dil] (0 outside the image);
//   y[n] = W[Cout, C*KH*KW] · col[n]  and  dcol[n] = Wᵀ · dy[n]  (batched GEMMs on the host side).
// With `images_in_cols` im2col writes col as [C*KH*KW, N*OH*OW] (column (n, oy, ox)) instead of
// [N, C*KH*KW, OH*OW], so that dW = dy · colᵀ is one GEMM over the whole batch: its fp32 accumulator
// spans every image and dW is rounded to the storage dtype once.
// col2im is the adjoint of im2col, written as a gather over input pixels (no atomics, deterministic).
// Launch for both: 1-D grid-stride, 256 threads; im2col over col elements, col2im over x elements.
// CPU twin: sdj.backend.cpu.CpuConv (im2col/col2im and image patches packed into the GEMM panels); the CUDA tests compare the two.
#include "common.cuh"

struct ConvGeom {
    int C, H, W, KH, KW, OH, OW, stride, pad, dil;
};

template <typename T>
__device__ void im2col_impl(const T* x, T* col, int N, ConvGeom g, int images_in_cols) {
    long long cols = (long long)g.OH * g.OW, rows = (long long)g.C * g.KH * g.KW;
    FOR_EACH_INDEX(i, (long long)N * rows * cols) {
        long long p = i % cols, r, n;
        if (images_in_cols) { n = (i / cols) % N; r = i / (cols * N); }
        else { r = (i / cols) % rows; n = i / (cols * rows); }
        int ox = (int)(p % g.OW), oy = (int)(p / g.OW);
        int kj = (int)(r % g.KW), ki = (int)((r / g.KW) % g.KH), c = (int)(r / ((long long)g.KW * g.KH));
        int iy = oy * g.stride - g.pad + ki * g.dil, ix = ox * g.stride - g.pad + kj * g.dil;
        bool inside = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
        col[i] = inside ? x[((n * g.C + c) * g.H + iy) * g.W + ix] : from_f32<T>(0.f);
    }
}

template <typename T>
__device__ void col2im_impl(const T* col, T* dx, int N, ConvGeom g) {
    long long cols = (long long)g.OH * g.OW, rows = (long long)g.C * g.KH * g.KW;
    FOR_EACH_INDEX(i, (long long)N * g.C * g.H * g.W) {
        int ix = (int)(i % g.W), iy = (int)((i / g.W) % g.H);
        int c = (int)((i / ((long long)g.W * g.H)) % g.C);
        long long n = i / ((long long)g.W * g.H * g.C);
        float acc = 0.f;
        for (int ki = 0; ki < g.KH; ki++) {
            int ty = iy + g.pad - ki * g.dil;
            if (ty < 0 || ty % g.stride) continue;
            int oy = ty / g.stride;
            if (oy >= g.OH) continue;
            for (int kj = 0; kj < g.KW; kj++) {
                int tx = ix + g.pad - kj * g.dil;
                if (tx < 0 || tx % g.stride) continue;
                int ox = tx / g.stride;
                if (ox >= g.OW) continue;
                long long r = ((long long)c * g.KH + ki) * g.KW + kj;
                acc += to_f32(col[(n * rows + r) * cols + (long long)oy * g.OW + ox]);
            }
        }
        dx[i] = from_f32<T>(acc);
    }
}

#define CONV_ENTRIES(suffix, T)                                                                                   \
    extern "C" __global__ void im2col_##suffix(const T* x, T* col, int N, int C, int H, int W, int KH, int KW,   \
                                               int OH, int OW, int stride, int pad, int dil,                     \
                                               int images_in_cols) {                                             \
        im2col_impl<T>(x, col, N, ConvGeom{C, H, W, KH, KW, OH, OW, stride, pad, dil}, images_in_cols);          \
    }                                                                                                             \
    extern "C" __global__ void col2im_##suffix(const T* col, T* dx, int N, int C, int H, int W, int KH, int KW,  \
                                               int OH, int OW, int stride, int pad, int dil) {                   \
        col2im_impl<T>(col, dx, N, ConvGeom{C, H, W, KH, KW, OH, OW, stride, pad, dil});                         \
    }
FOR_EACH_DTYPE(CONV_ENTRIES)
