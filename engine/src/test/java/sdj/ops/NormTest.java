package sdj.ops;

import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class NormTest {
    private static final float EPS = 1e-5f;
    private static final double FP32 = 1e-5;

    /**
     * Naive group norm of x [n, c, spatial...] in double: per (image, group) mean and biased variance
     * over c/groups channels × spatial, then (x − μ)/√(σ² + eps)·γ[ch] + β[ch].
     */
    static double[] naiveGroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, double eps) {
        double[] v = OpAssert.doubles(x);
        int n = x.size(0);
        int c = x.size(1);
        int spatial = v.length / (n * c);
        int perGroup = c / groups;
        double[] out = new double[v.length];
        for (int b = 0; b < n; b++) {
            for (int g = 0; g < groups; g++) {
                int from = (b * c + g * perGroup) * spatial;
                int to = from + perGroup * spatial;
                double mean = 0;
                for (int i = from; i < to; i++) {
                    mean += v[i];
                }
                mean /= to - from;
                double var = 0;
                for (int i = from; i < to; i++) {
                    var += (v[i] - mean) * (v[i] - mean);
                }
                var /= to - from;
                for (int i = from; i < to; i++) {
                    int ch = g * perGroup + (i - from) / spatial;
                    double h = (v[i] - mean) / Math.sqrt(var + eps);
                    out[i] = h * (gamma == null ? 1 : gamma.get(ch)) + (beta == null ? 0 : beta.get(ch));
                }
            }
        }
        return out;
    }

    @Test
    void layerNormHandValues() {
        // mean 2.5, biased variance 1.25: (x − 2.5)/√1.25 = ±3/√5, ±1/√5
        double a = 3 / Math.sqrt(5);
        double b = 1 / Math.sqrt(5);
        Tensor x = t(shape(2, 4), 1, 2, 3, 4, 4, 3, 2, 1);
        assertValues(new double[] {-a, -b, b, a, a, b, -b, -a}, shape(2, 4), F.layerNorm(x, null, null, 0f), FP32);
        Tensor gamma = t(shape(4), 1, 2, 3, 4);
        Tensor beta = t(shape(4), 0, 0, 0, 10);
        assertValues(new double[] {-a, -2 * b, 3 * b, 4 * a + 10, a, 2 * b, -3 * b, -4 * a + 10}, shape(2, 4),
                F.layerNorm(x, gamma, beta, 0f), FP32);
    }

    @Test
    void layerNormAgainstNaive() {
        // layer norm over the last dim is group norm with one group of a [rows, D] matrix
        Tensor x = Rand.uniform(1, 2, 3, 5);
        Tensor gamma = Rand.uniform(2, 5);
        Tensor beta = Rand.uniform(3, 5);
        assertValues(naiveGroupNorm(x.reshape(6, 5, 1), 1, null, null, EPS), shape(2, 3, 5),
                F.layerNorm(x, null, null, EPS), FP32);
        double[] plain = naiveGroupNorm(x.reshape(6, 5, 1), 1, null, null, EPS);
        double[] affine = new double[plain.length];
        for (int i = 0; i < plain.length; i++) {
            affine[i] = plain[i] * gamma.get(i % 5) + beta.get(i % 5);
        }
        assertValues(affine, shape(2, 3, 5), F.layerNorm(x, gamma, beta, EPS), FP32);
    }

    @ParameterizedTest(name = "groups={0} affine={1}")
    @CsvSource({"1,true", "2,true", "4,true", "2,false", "4,false"})
    void groupNormAgainstNaive(int groups, boolean affine) {
        Tensor x = Rand.uniform(4, 2, 4, 3, 3);
        Tensor gamma = affine ? Rand.uniform(5, 4) : null;
        Tensor beta = affine ? Rand.uniform(6, 4) : null;
        assertValues(naiveGroupNorm(x, groups, gamma, beta, EPS), x.shape(), F.groupNorm(x, groups, gamma, beta, EPS),
                FP32);
    }

    @Test
    void groupNormOfSdSizedGroupsAgainstNaive() {
        // 32 channels in 8 groups over 16×16: rows large enough to be split over threads
        Tensor x = Rand.uniform(14, 2, 32, 16, 16);
        Tensor gamma = Rand.uniform(15, 32);
        Tensor beta = Rand.uniform(16, 32);
        assertValues(naiveGroupNorm(x, 8, gamma, beta, EPS), x.shape(), F.groupNorm(x, 8, gamma, beta, EPS), FP32);
    }

    @Test
    void groupNormHandValues() {
        // one image, 2 channels of 2 values, 1 group: mean 2.5, variance 1.25 as in layerNormHandValues
        double a = 3 / Math.sqrt(5);
        double b = 1 / Math.sqrt(5);
        Tensor x = t(shape(1, 2, 2), 1, 2, 3, 4);
        assertValues(new double[] {-a, -b, 2 * b + 1, 2 * a + 1}, shape(1, 2, 2),
                F.groupNorm(x, 1, t(shape(2), 1, 2), t(shape(2), 0, 1), 0f), FP32);
    }

    @ParameterizedTest(name = "groups={0} affine={1}")
    @CsvSource({"1,true", "2,true", "4,true", "2,false"})
    void groupNormGradients(int groups, boolean affine) {
        Tensor x = Rand.param(7, 2, 4, 2, 3);
        Tensor gamma = affine ? Rand.param(8, 4) : null;
        Tensor beta = affine ? Rand.param(9, 4) : null;
        GradCheck.check(in -> F.groupNorm(in[0], groups, in[1], in[2], EPS), x, gamma, beta);
    }

    @Test
    void layerNormGradients() {
        GradCheck.check(in -> F.layerNorm(in[0], in[1], in[2], EPS), Rand.param(10, 2, 3, 6), Rand.param(11, 6),
                Rand.param(12, 6));
        GradCheck.check(in -> F.layerNorm(in[0], null, null, EPS), Rand.param(13, 3, 6));
    }
}
