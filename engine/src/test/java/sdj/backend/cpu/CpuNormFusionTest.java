package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdj.ops.Norm;
import sdj.ops.Unary;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * The vectorized CPU norms (statistics in double lanes, affine in float lanes) against the scalar formula,
 * and group_norm+SiLU fused into the affine pass (inference) against its unfused twin, group_norm then
 * SiLU, and against the recorded path.
 */
class CpuNormFusionTest {
    private static final float EPS = 1e-5f;

    @ParameterizedTest
    @CsvSource({"2, 64, 7, 7, 32", "1, 320, 16, 16, 32", "2, 32, 3, 5, 8", "1, 40, 1, 1, 4", "1, 8, 70, 65, 4"})
    void groupNormMatchesTheScalarFormulaAndFusedSiluMatchesItsTwin(int n, int c, int h, int w, int groups) {
        Tensor x = random(n * c * h * w, 1, n, c, h, w);
        Tensor gamma = random(c, 2, c);
        Tensor beta = random(c, 3, c);
        try (var g = Autograd.noGrad()) {
            float[] norm = Norm.groupNorm(x, groups, gamma, beta, EPS).toFloatArray();
            assertClose(scalarNorm(x.toFloatArray(), n * groups, c / groups * h * w, h * w, c / groups, groups,
                    gamma.toFloatArray(), beta.toFloatArray()), norm);

            float[] twin = Unary.silu(Tensor.of(norm, n, c, h, w)).toFloatArray();
            float[] fused = Norm.groupNormSilu(x, groups, gamma, beta, EPS).toFloatArray();
            assertClose(twin, fused);
        }
        // with a backward to feed, the norm and SiLU run apart, to the same bits (a checkpoint's recomputation
        // must match its forward)
        x.requiresGrad(true);
        assertArrayEquals(noGradFused(x, groups, gamma, beta),
                Norm.groupNormSilu(x, groups, gamma, beta, EPS).detach().toFloatArray(), 0f);
    }

    @ParameterizedTest
    @CsvSource({"2, 64, 7, 7, 32", "1, 32, 4, 4, 8"})
    void fusedBackwardMatchesGroupNormThenSilu(int n, int c, int h, int w, int groups) {
        Tensor upstream = random(n * c * h * w, 7, n, c, h, w);
        Tensor[] fused = gradients(n, c, h, w, groups, upstream, true);
        Tensor[] twin = gradients(n, c, h, w, groups, upstream, false);
        for (int i = 0; i < 3; i++) {
            assertClose(twin[i].toFloatArray(), fused[i].toFloatArray(), 1e-5f);
        }
    }

    /** Gradients of x, γ and β under Σ upstream·f(x), f fused or as its two recorded ops. */
    private static Tensor[] gradients(int n, int c, int h, int w, int groups, Tensor upstream, boolean fused) {
        Tensor x = random(n * c * h * w, 1, n, c, h, w);
        Tensor gamma = random(c, 2, c);
        Tensor beta = random(c, 3, c);
        for (Tensor t : new Tensor[] {x, gamma, beta}) {
            t.requiresGrad(true);
        }
        Tensor y = fused ? Norm.groupNormSilu(x, groups, gamma, beta, EPS)
                : Unary.silu(Norm.groupNorm(x, groups, gamma, beta, EPS));
        y.backward(upstream);
        return new Tensor[] {x.grad(), gamma.grad(), beta.grad()};
    }

    @ParameterizedTest
    @CsvSource({"3, 77, true", "2, 320, true", "4, 16, false"})
    void layerNormMatchesTheScalarFormula(int rows, int d, boolean affine) {
        Tensor x = random(rows * d, 4, rows, d);
        Tensor gamma = affine ? random(d, 5, d) : null;
        Tensor beta = affine ? random(d, 6, d) : null;
        try (var g = Autograd.noGrad()) {
            assertClose(scalarNorm(x.toFloatArray(), rows, d, 1, d, 1, gamma == null ? null : gamma.toFloatArray(),
                    beta == null ? null : beta.toFloatArray()), Norm.layerNorm(x, gamma, beta, EPS).toFloatArray());
        }
    }

    private static float[] noGradFused(Tensor x, int groups, Tensor gamma, Tensor beta) {
        try (var g = Autograd.noGrad()) {
            return Norm.groupNormSilu(x, groups, gamma, beta, EPS).toFloatArray();
        }
    }

    /**
     * Within an ulp or so: SiLU's vector lanes and its scalar tail round differently, and the statistics'
     * lane sums may round the float mean the other way.
     */
    private static void assertClose(float[] expected, float[] actual) {
        assertClose(expected, actual, 1e-6f);
    }

    private static void assertClose(float[] expected, float[] actual, float relative) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 0.2f * relative + relative * Math.abs(expected[i]), "element " + i);
        }
    }

    /** The normalisation as the former scalar loop computed it: double statistics, float affine. */
    private static float[] scalarNorm(float[] xv, int rows, int rowLen, int spatial, int channelsPerRow, int groups,
            float[] gamma, float[] beta) {
        float[] out = new float[xv.length];
        for (int r = 0; r < rows; r++) {
            int base = r * rowLen;
            double sum = 0;
            for (int e = 0; e < rowLen; e++) {
                sum += xv[base + e];
            }
            double mean = sum / rowLen;
            double sq = 0;
            for (int e = 0; e < rowLen; e++) {
                double dlt = xv[base + e] - mean;
                sq += dlt * dlt;
            }
            float inv = (float) (1.0 / Math.sqrt(sq / rowLen + EPS));
            float m = (float) mean;
            for (int e = 0; e < rowLen; e++) {
                int ch = (r % groups) * channelsPerRow + e / spatial;
                out[base + e] = (xv[base + e] - m) * inv * (gamma == null ? 1f : gamma[ch]) + (beta == null ? 0f : beta[ch]);
            }
        }
        return out;
    }

    private static Tensor random(int size, long seed, int... shape) {
        Random r = new Random(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) (r.nextGaussian() * 2 + 0.5);
        }
        return Tensor.of(v, shape);
    }
}
