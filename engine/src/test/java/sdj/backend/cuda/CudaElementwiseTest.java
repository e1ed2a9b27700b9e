package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.tensor.DType;

/** Activations (forward and backward), broadcasting binary ops, affine maps, GEGLU and casts. */
class CudaElementwiseTest {
    private static final int[] SHAPE = {2, 320, 32, 32};
    private static final int N = 2 * 320 * 32 * 32;

    static double erf(double x) {
        // Abramowitz–Stegun 7.1.26 is too coarse for 1e-4 parity; integrate the series instead.
        double sum = 0;
        double term = x;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
            if (Math.abs(term) < 1e-17) {
                break;
            }
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    static DoubleUnaryOperator forward(Activation act) {
        return switch (act) {
            case SILU -> x -> x * sigmoid(x);
            case GELU -> x -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case GELU_TANH -> x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case QUICK_GELU -> x -> x * sigmoid(1.702 * x);
            case SIGMOID -> CudaElementwiseTest::sigmoid;
            case TANH -> Math::tanh;
        };
    }

    /** Central finite difference in double: an independent check of each closed-form derivative. */
    static double derivative(Activation act, double x) {
        double h = 1e-5;
        DoubleUnaryOperator f = forward(act);
        return (f.applyAsDouble(x + h) - f.applyAsDouble(x - h)) / (2 * h);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void activationsForwardAndBackward(DType dtype) {
        CudaOps ops = opsOrSkip();
        float[] x = rounded(random(11, N, 4f), dtype);
        float[] dy = rounded(random(12, N, 1f), dtype);
        try (CudaTensor dx = upload(ops, x, dtype, SHAPE); CudaTensor ddy = upload(ops, dy, dtype, SHAPE)) {
            for (Activation act : Activation.values()) {
                float[] y = new float[N];
                float[] g = new float[N];
                DoubleUnaryOperator f = forward(act);
                for (int i = 0; i < N; i++) {
                    y[i] = (float) f.applyAsDouble(x[i]);
                    g[i] = (float) (dy[i] * derivative(act, x[i]));
                }
                try (CudaTensor out = ops.activation(act, dx); CudaTensor grad = ops.activationBackward(act, dx, ddy)) {
                    assertClose(y, out.toFloatArray(), dtype, act + " forward");
                    assertClose(g, grad.toFloatArray(), dtype, act + " backward");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void binaryOpsBroadcastPerChannelAndAsSuffix(DType dtype) {
        CudaOps ops = opsOrSkip();
        float[] a = rounded(random(13, N, 2f), dtype);
        float[] same = rounded(random(14, N, 2f), dtype);
        float[] channel = rounded(random(15, 320, 2f), dtype);
        float[] suffix = rounded(random(16, 32, 2f), dtype);
        float[] sum = new float[N];
        float[] prod = new float[N];
        float[] chan = new float[N];
        float[] suf = new float[N];
        float[] affine = new float[N];
        for (int i = 0; i < N; i++) {
            sum[i] = a[i] + same[i];
            prod[i] = a[i] * same[i];
            chan[i] = a[i] + channel[(i / 1024) % 320];
            suf[i] = a[i] - suffix[i % 32];
            affine[i] = a[i] * 0.5f + 0.25f;
        }
        try (CudaTensor da = upload(ops, a, dtype, SHAPE); CudaTensor ds = upload(ops, same, dtype, SHAPE);
             CudaTensor dc = upload(ops, channel, dtype, 320, 1, 1); CudaTensor dsuf = upload(ops, suffix, dtype, 32);
             CudaTensor r1 = ops.add(da, ds); CudaTensor r2 = ops.mul(da, ds); CudaTensor r3 = ops.add(da, dc);
             CudaTensor r4 = ops.sub(da, dsuf); CudaTensor r5 = ops.add(ops.mul(da, 0.5f), 0.25f)) {
            assertClose(sum, r1.toFloatArray(), dtype, "add");
            assertClose(prod, r2.toFloatArray(), dtype, "mul");
            assertClose(chan, r3.toFloatArray(), dtype, "add per channel");
            assertClose(suf, r4.toFloatArray(), dtype, "sub suffix");
            assertClose(affine, r5.toFloatArray(), dtype, "affine");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void gegluForwardAndBackward(DType dtype) {
        CudaOps ops = opsOrSkip();
        int rows = 2 * 256;
        int f = 1280;
        float[] x = rounded(random(17, rows * 2 * f, 3f), dtype);
        float[] dout = rounded(random(18, rows * f, 1f), dtype);
        float[] y = new float[rows * f];
        float[] dx = new float[rows * 2 * f];
        DoubleUnaryOperator gelu = forward(Activation.GELU);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < f; c++) {
                float v = x[r * 2 * f + c];
                float g = x[r * 2 * f + f + c];
                float d = dout[r * f + c];
                y[r * f + c] = (float) (v * gelu.applyAsDouble(g));
                dx[r * 2 * f + c] = (float) (d * gelu.applyAsDouble(g));
                dx[r * 2 * f + f + c] = (float) (d * v * derivative(Activation.GELU, g));
            }
        }
        try (CudaTensor dxT = upload(ops, x, dtype, 2, 256, 2 * f); CudaTensor dd = upload(ops, dout, dtype, 2, 256, f);
             CudaTensor out = ops.geglu(dxT); CudaTensor grad = ops.gegluBackward(dxT, dd)) {
            assertClose(y, out.toFloatArray(), dtype, "geglu");
            assertClose(dx, grad.toFloatArray(), dtype, "geglu backward");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void castsRoundLikeTheHost(DType dtype) {
        CudaOps ops = opsOrSkip();
        float[] x = random(19, 4096, 100f);
        try (CudaTensor f32 = upload(ops, x, DType.F32, 4096); CudaTensor low = ops.to(f32, dtype);
             CudaTensor back = ops.to(low, DType.F32)) {
            assertClose(rounded(x, dtype), back.toFloatArray(), 0f, "cast f32→" + dtype + "→f32 equals host rounding");
        }
    }
}
