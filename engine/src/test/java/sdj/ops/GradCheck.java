package sdj.ops;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.Function;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * Finite-difference gradient check for an op {@code f(inputs) -> output}.
 *
 * <p>The scalar checked is {@code L = Σ w·f(x)} for a fixed random projection w of the output (so
 * every output element and every direction of the Jacobian contributes). Analytic gradients come
 * from {@code f(x).mul(w).sum().backward()}; numeric ones from central differences
 * {@code (L(x+ε) − L(x−ε)) / ((x+ε) − (x−ε))}, with L accumulated in double over the fp32 outputs and
 * the denominator taken from the actually rounded fp32 perturbations.
 *
 * <p>Tolerance {@code |analytic − numeric| ≤ tol·max(1, |numeric|)}, default tol = 2e-3 with ε = 1e-2:
 * the fp32 forward gives each output a relative error of a few 1e-7 (more after a K-term dot product),
 * so the difference quotient carries rounding noise of order 1e-7·Σ|w·y| / 2ε ≈ 1e-4 on our small
 * shapes, and the O(ε²·f''') truncation term is ≈ 1e-4 for the smooth functions checked here. 2e-3
 * leaves an order of magnitude of margin over both while still catching any wrong factor, sign, index
 * or missing broadcast reduction (those give errors of order 1).
 *
 * <p>Only inputs with {@code requiresGrad()} are checked; each must be a contiguous fp32 leaf built by the
 * test (its backing array is perturbed in place and restored).
 */
public final class GradCheck {
    public static final double DEFAULT_EPS = 1e-2;
    public static final double DEFAULT_TOL = 2e-3;
    private static final long PROJECTION_SEED = 0x5D1L;

    private GradCheck() {
    }

    public static void check(Function<Tensor[], Tensor> f, Tensor... inputs) {
        check(f, DEFAULT_EPS, DEFAULT_TOL, inputs);
    }

    public static void check(Function<Tensor[], Tensor> f, double eps, double tol, Tensor... inputs) {
        for (Tensor in : inputs) {
            if (in != null) {
                in.zeroGrad();
            }
        }
        Tensor out = f.apply(inputs);
        Tensor w = Rand.uniform(PROJECTION_SEED, out.shape());
        out.mul(w).sum().backward();
        float[] wv = w.floats();
        for (int i = 0; i < inputs.length; i++) {
            Tensor in = inputs[i];
            if (in == null || !in.requiresGrad()) {
                continue;
            }
            assertNotNull(in.grad(), "input " + i + " received no gradient");
            float[] analytic = in.grad().toFloatArray();
            float[] data = in.floats(); // the leaf's own backing array
            for (int j = 0; j < data.length; j++) {
                float original = data[j];
                float plus = (float) (original + eps);
                float minus = (float) (original - eps);
                data[j] = plus;
                double lossPlus = projectedLoss(f, inputs, wv);
                data[j] = minus;
                double lossMinus = projectedLoss(f, inputs, wv);
                data[j] = original;
                double numeric = (lossPlus - lossMinus) / ((double) plus - minus);
                double err = Math.abs(analytic[j] - numeric);
                if (err > tol * Math.max(1, Math.abs(numeric))) {
                    fail(String.format("gradient of input %d %s at element %d: analytic %.6g, numeric %.6g (|diff| %.3g)",
                            i, in, j, analytic[j], numeric, err));
                }
            }
        }
    }

    private static double projectedLoss(Function<Tensor[], Tensor> f, Tensor[] inputs, float[] w) {
        float[] y;
        try (var scope = Autograd.noGrad()) {
            y = f.apply(inputs).toFloatArray();
        }
        double loss = 0;
        for (int i = 0; i < y.length; i++) {
            loss += (double) w[i] * y[i];
        }
        return loss;
    }

    /** Seeded test data. */
    public static final class Rand {
        private Rand() {
        }

        /** Uniform in [-1, 1). */
        public static Tensor uniform(long seed, int... shape) {
            return uniform(seed, -1, 1, shape);
        }

        public static Tensor uniform(long seed, double lo, double hi, int... shape) {
            SplittableRandom rng = new SplittableRandom(seed);
            int n = 1;
            for (int s : shape) {
                n *= s;
            }
            float[] d = new float[n];
            for (int i = 0; i < n; i++) {
                d[i] = (float) rng.nextDouble(lo, hi);
            }
            return Tensor.of(d, shape);
        }

        /** A leaf parameter: uniform in [-1, 1) with requiresGrad set. */
        public static Tensor param(long seed, int... shape) {
            return uniform(seed, shape).requiresGrad(true);
        }
    }
}
