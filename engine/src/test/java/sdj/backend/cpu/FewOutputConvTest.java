package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import sdj.ops.Conv;
import sdj.tensor.Tensor;

/**
 * The direct few-output 3×3 convolution against a float64 reference: every output within γ_{9C+1}·Σ|x·w| + |b|
 * (its sum is 9C products and the bias, each rounding once in fp32), over widths that end inside a strip, on a
 * vector boundary and past several strips, one and several images, with and without bias. An index or edge
 * mask off by one gives errors the size of the outputs.
 */
class FewOutputConvTest {
    private static final double U = Math.ulp(1.0f) / 2;

    @ParameterizedTest(name = "n{0} c{1} o{2} {3}x{4} bias {5}")
    @CsvSource({"1, 1, 1, 1, 1, true", "1, 3, 3, 5, 7, true", "2, 5, 4, 6, 16, false", "1, 8, 2, 3, 32, true",
        "2, 16, 3, 9, 45, true", "1, 4, 3, 2, 100, false", "1, 32, 3, 4, 67, true"})
    void matchesTheFloat64SumWithinItsRoundingBound(int n, int c, int o, int h, int w, boolean withBias) {
        SplittableRandom random = new SplittableRandom(n * 1000 + c * 100 + o * 10 + w);
        float[] x = uniform(random, n * c * h * w);
        float[] wt = uniform(random, o * c * 9);
        float[] bias = withBias ? uniform(random, o) : null;
        float[] y = new float[n * o * h * w];
        FewOutputConv.conv3x3(x, n, c, h, w, wt, o, bias, y);
        double gamma = (9 * c + 1) * U / (1 - (9 * c + 1) * U);
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                for (int r = 0; r < h; r++) {
                    for (int col = 0; col < w; col++) {
                        double sum = bias == null ? 0 : bias[oc];
                        double abs = Math.abs(sum);
                        for (int ic = 0; ic < c; ic++) {
                            for (int ky = 0; ky < 3; ky++) {
                                for (int kx = 0; kx < 3; kx++) {
                                    int yy = r + ky - 1;
                                    int xx = col + kx - 1;
                                    if (yy < 0 || yy >= h || xx < 0 || xx >= w) {
                                        continue;
                                    }
                                    double p = (double) x[((b * c + ic) * h + yy) * w + xx] * wt[((oc * c + ic) * 3 + ky) * 3 + kx];
                                    sum += p;
                                    abs += Math.abs(p);
                                }
                            }
                        }
                        int at = ((b * o + oc) * h + r) * w + col;
                        assertEquals(sum, y[at], gamma * abs + Double.MIN_VALUE,
                                "image " + b + " output " + oc + " at (" + r + ", " + col + ")");
                    }
                }
            }
        }
    }

    @Test
    void theConvOpTakesItForThreeOutputsAndMatchesTheGemmPath() {
        SplittableRandom random = new SplittableRandom(7);
        Tensor x = Tensor.of(uniform(random, 2 * 12 * 10 * 37), 2, 12, 10, 37);
        Tensor wt = Tensor.of(uniform(random, 3 * 12 * 9), 3, 12, 3, 3);
        Tensor b = Tensor.of(uniform(random, 3), 3);
        float[] few = Conv.conv2d(x, wt, b, 1, 1).toFloatArray();
        float[] kernel = new float[few.length];
        FewOutputConv.conv3x3(x.toFloatArray(), 2, 12, 10, 37, wt.toFloatArray(), 3, b.toFloatArray(), kernel);
        org.junit.jupiter.api.Assertions.assertArrayEquals(kernel, few, "conv2d ran the few-output kernel");
        String before = System.getProperty("sdj.conv");
        System.setProperty("sdj.conv", "direct");
        float[] gemm;
        try {
            gemm = Conv.conv2d(x, wt, b, 1, 1).toFloatArray();
        } finally {
            if (before == null) {
                System.clearProperty("sdj.conv");
            } else {
                System.setProperty("sdj.conv", before);
            }
        }
        for (int i = 0; i < few.length; i++) {
            assertEquals(gemm[i], few[i], 2e-5 * (1 + Math.abs(gemm[i])), "element " + i);
        }
    }

    @Test
    void moreOutputsThanItHoldsAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> FewOutputConv.conv3x3(new float[9], 1, 1, 3, 3, new float[45], 5, null, new float[45]));
    }

    private static float[] uniform(SplittableRandom random, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return a;
    }
}
