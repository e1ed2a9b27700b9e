package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.tensor.DType;

/** conv2d (im2col + GEMM) forward and backward against direct convolution loops. */
class CudaConvTest {
    record Conv(int n, int c, int h, int w, int cout, int k, int stride, int pad) {
        int oh() {
            return (h + 2 * pad - k) / stride + 1;
        }

        int ow() {
            return (w + 2 * pad - k) / stride + 1;
        }
    }

    static float[] forward(Conv g, float[] x, float[] wt, float[] bias) {
        float[] y = new float[g.n() * g.cout() * g.oh() * g.ow()];
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.cout(); o++) {
                for (int oy = 0; oy < g.oh(); oy++) {
                    for (int ox = 0; ox < g.ow(); ox++) {
                        double s = bias == null ? 0 : bias[o];
                        for (int c = 0; c < g.c(); c++) {
                            for (int ky = 0; ky < g.k(); ky++) {
                                int iy = oy * g.stride() - g.pad() + ky;
                                if (iy < 0 || iy >= g.h()) {
                                    continue;
                                }
                                for (int kx = 0; kx < g.k(); kx++) {
                                    int ix = ox * g.stride() - g.pad() + kx;
                                    if (ix >= 0 && ix < g.w()) {
                                        s += x[((n * g.c() + c) * g.h() + iy) * g.w() + ix]
                                                * wt[((o * g.c() + c) * g.k() + ky) * g.k() + kx];
                                    }
                                }
                            }
                        }
                        y[((n * g.cout() + o) * g.oh() + oy) * g.ow() + ox] = (float) s;
                    }
                }
            }
        }
        return y;
    }

    /** Fills dx, dw, db by distributing each output gradient back along the forward's sums. */
    static void backward(Conv g, float[] x, float[] wt, float[] dy, float[] dx, float[] dw, float[] db) {
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.cout(); o++) {
                for (int oy = 0; oy < g.oh(); oy++) {
                    for (int ox = 0; ox < g.ow(); ox++) {
                        float d = dy[((n * g.cout() + o) * g.oh() + oy) * g.ow() + ox];
                        db[o] += d;
                        for (int c = 0; c < g.c(); c++) {
                            for (int ky = 0; ky < g.k(); ky++) {
                                int iy = oy * g.stride() - g.pad() + ky;
                                if (iy < 0 || iy >= g.h()) {
                                    continue;
                                }
                                for (int kx = 0; kx < g.k(); kx++) {
                                    int ix = ox * g.stride() - g.pad() + kx;
                                    if (ix >= 0 && ix < g.w()) {
                                        int xi = ((n * g.c() + c) * g.h() + iy) * g.w() + ix;
                                        int wi = ((o * g.c() + c) * g.k() + ky) * g.k() + kx;
                                        dx[xi] += d * wt[wi];
                                        dw[wi] += d * x[xi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void conv3x3_320to320_at32x32(DType dtype) {
        CudaOps ops = opsOrSkip();
        Conv g = new Conv(1, 320, 32, 32, 320, 3, 1, 1);
        checkForward(ops, g, dtype);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void downsamplingStride2AndBackward(DType dtype) {
        CudaOps ops = opsOrSkip();
        for (Conv g : new Conv[] {new Conv(2, 64, 16, 16, 32, 3, 2, 1), new Conv(2, 48, 15, 13, 40, 3, 1, 1),
            new Conv(2, 40, 8, 8, 24, 1, 1, 0)}) {
            checkForward(ops, g, dtype);
            checkBackward(ops, g, dtype);
        }
    }

    /**
     * dW of a batch in fp16/bf16 must be the fp32 sum over every image, rounded once: then each element is
     * within the dtype's unit roundoff u (2^-11 fp16, 2^-8 bf16) of its value, so the error measure of
     * assertClose stays ≤ u plus the fp32 summation differences (1e-5 covers them). Rounding dW after each
     * image (a GEMM per image with beta = 1) adds up to N such errors and exceeds u.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void weightGradientOfABatchIsRoundedOnce(DType dtype) {
        CudaOps ops = opsOrSkip();
        Conv g = new Conv(6, 24, 11, 13, 40, 3, 1, 1);
        float[] x = rounded(random(57, g.n() * g.c() * g.h() * g.w(), 1f), dtype);
        float[] wt = rounded(random(58, g.cout() * g.c() * g.k() * g.k(), 0.1f), dtype);
        float[] dy = rounded(random(59, g.n() * g.cout() * g.oh() * g.ow(), 1f), dtype);
        float[] dw = new float[wt.length];
        backward(g, x, wt, dy, new float[x.length], dw, new float[g.cout()]);
        float unitRoundoff = dtype == DType.F16 ? 0x1p-11f : 0x1p-8f;
        try (CudaTensor dX = upload(ops, x, dtype, g.n(), g.c(), g.h(), g.w());
             CudaTensor dW = upload(ops, wt, dtype, g.cout(), g.c(), g.k(), g.k());
             CudaTensor dDy = upload(ops, dy, dtype, g.n(), g.cout(), g.oh(), g.ow())) {
            CudaOps.ConvGrads grads = ops.conv2dBackward(dX, dW, dDy, g.stride(), g.pad(), false);
            try (CudaTensor gx = grads.dx(); CudaTensor gw = grads.dweight()) {
                assertClose(dw, gw.toFloatArray(), unitRoundoff + 1e-5f, "conv2d dweight of " + g.n() + " images " + dtype);
            }
        }
    }

    private static void checkForward(CudaOps ops, Conv g, DType dtype) {
        float[] x = rounded(random(51, g.n() * g.c() * g.h() * g.w(), 1f), dtype);
        float[] wt = rounded(random(52, g.cout() * g.c() * g.k() * g.k(), 0.1f), dtype);
        float[] bias = rounded(random(53, g.cout(), 1f), dtype);
        float[] expected = forward(g, x, wt, bias);
        try (CudaTensor dX = upload(ops, x, dtype, g.n(), g.c(), g.h(), g.w());
             CudaTensor dW = upload(ops, wt, dtype, g.cout(), g.c(), g.k(), g.k());
             CudaTensor dB = upload(ops, bias, dtype, g.cout());
             CudaTensor y = ops.conv2d(dX, dW, dB, g.stride(), g.pad())) {
            assertClose(expected, y.toFloatArray(), dtype, "conv2d " + g);
        }
    }

    private static void checkBackward(CudaOps ops, Conv g, DType dtype) {
        float[] x = rounded(random(54, g.n() * g.c() * g.h() * g.w(), 1f), dtype);
        float[] wt = rounded(random(55, g.cout() * g.c() * g.k() * g.k(), 0.1f), dtype);
        float[] dy = rounded(random(56, g.n() * g.cout() * g.oh() * g.ow(), 1f), dtype);
        float[] dx = new float[x.length];
        float[] dw = new float[wt.length];
        float[] db = new float[g.cout()];
        backward(g, x, wt, dy, dx, dw, db);
        try (CudaTensor dX = upload(ops, x, dtype, g.n(), g.c(), g.h(), g.w());
             CudaTensor dW = upload(ops, wt, dtype, g.cout(), g.c(), g.k(), g.k());
             CudaTensor dDy = upload(ops, dy, dtype, g.n(), g.cout(), g.oh(), g.ow())) {
            CudaOps.ConvGrads grads = ops.conv2dBackward(dX, dW, dDy, g.stride(), g.pad(), true);
            assertClose(dx, grads.dx().toFloatArray(), dtype, "conv2d dx " + g);
            assertClose(dw, grads.dweight().toFloatArray(), dtype, "conv2d dweight " + g);
            assertClose(db, grads.dbias().toFloatArray(), DType.F32, "conv2d dbias (fp32) " + g + " " + dtype);
            grads.dx().close();
            grads.dweight().close();
            grads.dbias().close();
        }
    }
}
