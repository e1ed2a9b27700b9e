package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.ops.Unary;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * Activations and math functions (forward and backward), broadcasting binary ops, affine maps, GEGLU
 * and casts.
 */
class CudaElementwiseTest {
    private static final int[] SHAPE = {2, 320, 32, 32};
    private static final int N = 2 * 320 * 32 * 32;
    /** The activations defined on all reals, checked against closed forms and finite differences. */
    private static final EnumSet<Activation> ACTIVATIONS = EnumSet.range(Activation.SILU, Activation.TANH);

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
            default -> throw new IllegalArgumentException(act + " is checked against sdj.ops.Unary instead");
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
            for (Activation act : ACTIVATIONS) {
                float[] y = new float[N];
                float[] g = new float[N];
                DoubleUnaryOperator f = forward(act);
                for (int i = 0; i < N; i++) {
                    y[i] = (float) f.applyAsDouble(x[i]);
                    g[i] = (float) (dy[i] * derivative(act, x[i]));
                }
                try (CudaTensor out = KernelCalls.activation(act, dx); CudaTensor grad = KernelCalls.activationBackward(act, dx, ddy)) {
                    assertClose(y, out.toFloatArray(), dtype, act + " forward");
                    assertClose(g, grad.toFloatArray(), dtype, act + " backward");
                }
            }
        }
    }

    /** A math function of sdj.ops.Unary, its kernel code and exponent, and inputs in [lo, hi]. */
    private record MathCase(String name, Activation act, float p, UnaryOperator<Tensor> cpu, float lo, float hi) {
        float[] inputs(long seed, int n) {
            float[] x = random(seed, n, (hi - lo) / 2);
            for (int i = 0; i < n; i++) {
                x[i] += (hi + lo) / 2;
            }
            return x;
        }
    }

    private static final List<MathCase> MATH = List.of(
            new MathCase("exp", Activation.EXP, 0f, Unary::exp, -3f, 3f),
            new MathCase("log", Activation.LOG, 0f, Unary::log, 0.05f, 4f),
            new MathCase("sqrt", Activation.SQRT, 0f, Unary::sqrt, 0.05f, 4f),
            new MathCase("rsqrt", Activation.RSQRT, 0f, Unary::rsqrt, 0.05f, 4f),
            new MathCase("pow 3", Activation.POW, 3f, x -> Unary.pow(x, 3f), -2f, 2f), // negative bases
            new MathCase("pow 2.5", Activation.POW, 2.5f, x -> Unary.pow(x, 2.5f), 0f, 3f),
            new MathCase("pow -1.5", Activation.POW, -1.5f, x -> Unary.pow(x, -1.5f), 0.1f, 4f));

    /** The CPU's y = f(x) and dx = dy·f'(x) from sdj.ops.Unary and its tape. */
    private static float[][] cpuForwardBackward(MathCase c, float[] x, float[] dy, int... shape) {
        Tensor xt = Tensor.of(x.clone(), shape).requiresGrad(true);
        Tensor y = c.cpu().apply(xt);
        y.backward(Tensor.of(dy.clone(), shape));
        return new float[][] {y.toFloatArray(), xt.grad().toFloatArray()};
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void mathFunctionsMatchUnaryOnTheCpu(DType dtype) {
        CudaOps ops = opsOrSkip();
        int[] shape = {2, 77, 129};
        int n = 2 * 77 * 129;
        float[] dy = rounded(random(21, n, 1f), dtype);
        for (int k = 0; k < MATH.size(); k++) {
            MathCase c = MATH.get(k);
            float[] x = rounded(c.inputs(22 + k, n), dtype);
            float[][] cpu = cpuForwardBackward(c, x, dy, shape);
            try (CudaTensor dx = upload(ops, x, dtype, shape); CudaTensor ddy = upload(ops, dy, dtype, shape);
                 CudaTensor out = ops.activation(c.act(), dx, c.p());
                 CudaTensor grad = ops.activationBackward(c.act(), dx, ddy, c.p())) {
                assertClose(cpu[0], out.toFloatArray(), dtype, c.name() + " forward");
                assertClose(cpu[1], grad.toFloatArray(), dtype, c.name() + " backward");
            }
        }
    }

    /** Zeros of both signs, negatives, infinities, NaN, overflow and underflow of exp, |x| = 1. */
    private static final float[] EDGES = {0f, -0f, -1f, -2.5f, -8f, 1f, 2f, 0.5f, 1e-30f, 100f, -80f,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};

    @Test
    void mathFunctionsGiveTheCpusValuesOnEdgeInputs() {
        CudaOps ops = opsOrSkip();
        float[] ones = new float[EDGES.length];
        java.util.Arrays.fill(ones, 1f);
        List<MathCase> cases = new java.util.ArrayList<>(MATH.subList(0, 4));
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        for (float p : new float[] {2f, 3f, -1f, -2f, 0.5f, -0.5f, 1f / 3, 0f, 1f, nan, inf, -inf}) {
            cases.add(new MathCase("pow " + p, Activation.POW, p, x -> Unary.pow(x, p), 0f, 0f));
        }
        for (MathCase c : cases) {
            float[][] cpu = cpuForwardBackward(c, EDGES, ones, EDGES.length);
            try (CudaTensor dx = upload(ops, EDGES, DType.F32, EDGES.length);
                 CudaTensor ddy = upload(ops, ones, DType.F32, EDGES.length);
                 CudaTensor out = ops.activation(c.act(), dx, c.p());
                 CudaTensor grad = ops.activationBackward(c.act(), dx, ddy, c.p())) {
                assertSameValues(cpu[0], out.toFloatArray(), c.name() + " forward");
                assertSameValues(cpu[1], grad.toFloatArray(), c.name() + " backward");
            }
        }
    }

    /**
     * Value by value: NaN where the CPU has NaN, the same infinity or signed zero, else within 1e-5 of
     * the value itself (the GPU's powf is within 4 ulp; a tensor-wide scale would hide the small ones).
     */
    private static void assertSameValues(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            boolean same = Float.isFinite(e) && e != 0f ? Math.abs(a - e) <= 1e-5f * Math.abs(e) : Float.compare(e, a) == 0;
            assertTrue(same, what + " at x = " + EDGES[i] + ": gpu " + a + ", cpu " + e);
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
             CudaTensor r1 = KernelCalls.add(da, ds); CudaTensor r2 = KernelCalls.mul(da, ds); CudaTensor r3 = KernelCalls.add(da, dc);
             CudaTensor r4 = KernelCalls.sub(da, dsuf); CudaTensor r5 = KernelCalls.add(KernelCalls.mul(da, 0.5f), 0.25f)) {
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
        try (CudaTensor f32 = upload(ops, x, DType.F32, 4096); CudaTensor low = KernelCalls.to(f32, dtype);
             CudaTensor back = KernelCalls.to(low, DType.F32)) {
            assertClose(rounded(x, dtype), back.toFloatArray(), 0f, "cast f32→" + dtype + "→f32 equals host rounding");
        }
    }
}
