package sdj.ops;

import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class ConvTest {
    private static final double FP32 = 1e-5;

    /** One convolution configuration: input [n, c, h, w], kernel [o, c, k, k], stride, paddings. */
    record Case(String name, int n, int c, int h, int w, int o, int k, int stride, int top, int bottom, int left,
            int right, boolean bias) {
        Tensor run(Tensor[] in) {
            return Conv.conv2d(in[0], in[1], bias ? in[2] : null, stride, top, bottom, left, right);
        }

        Tensor[] params(long seed) {
            return new Tensor[] {Rand.param(seed, n, c, h, w), Rand.param(seed + 1, o, c, k, k),
                bias ? Rand.param(seed + 2, o) : null};
        }

        int ho() {
            return (h + top + bottom - k) / stride + 1;
        }

        int wo() {
            return (w + left + right - k) / stride + 1;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("3x3 stride 1 pad 1", 2, 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, true),
                new Case("3x3 stride 1 pad 1 no bias", 2, 2, 4, 5, 3, 3, 1, 1, 1, 1, 1, false),
                new Case("3x3 stride 2 pad 1", 2, 2, 5, 6, 3, 3, 2, 1, 1, 1, 1, true),
                new Case("1x1", 2, 3, 4, 3, 2, 1, 1, 0, 0, 0, 0, true),
                new Case("1x1 no bias", 2, 3, 3, 3, 4, 1, 1, 0, 0, 0, 0, false),
                new Case("VAE downsample 3x3 stride 2 pad (0,1,0,1)", 2, 2, 6, 6, 3, 3, 2, 0, 1, 0, 1, true),
                new Case("1x1 padded bottom/right", 2, 2, 3, 3, 2, 1, 1, 0, 1, 0, 1, true));
    }

    /**
     * Adds cases too big for a gradient check: images of 96 or more output pixels, whose patches are
     * packed straight into the GEMM's panels (panels that span output rows, a last partial panel, and
     * more than 256 patch rows so the packing crosses GEMM blocks), with stride 1 and stride 2.
     */
    static Stream<Case> forwardCases() {
        return Stream.concat(cases(), Stream.of(
                new Case("3x3 with 16 channels at 16x16 (patches packed in place)", 1, 16, 16, 16, 4, 3, 1, 1, 1, 1, 1, true),
                new Case("3x3 with 30 channels at 13x17 (patches packed in place)", 1, 30, 13, 17, 5, 3, 1, 1, 1, 1, 1, true),
                new Case("3x3 stride 2 pad (0,1,0,1) at 21x23, 32 channels (patches packed in place)", 2, 32, 21, 23, 5, 3,
                        2, 0, 1, 0, 1, false)));
    }

    /** Direct definition: y[b,oc,i,j] = bias[oc] + Σ x[b,c,i·s+u−top, j·s+v−left]·w[oc,c,u,v] (0 outside). */
    static double[] naiveConv(Case cs, Tensor x, Tensor w, Tensor bias) {
        double[] xv = OpAssert.doubles(x);
        double[] wv = OpAssert.doubles(w);
        double[] bv = bias == null ? null : OpAssert.doubles(bias);
        int ho = cs.ho();
        int wo = cs.wo();
        double[] out = new double[cs.n * cs.o * ho * wo];
        int at = 0;
        for (int b = 0; b < cs.n; b++) {
            for (int oc = 0; oc < cs.o; oc++) {
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        double s = bv == null ? 0 : bv[oc];
                        for (int c = 0; c < cs.c; c++) {
                            for (int u = 0; u < cs.k; u++) {
                                for (int v = 0; v < cs.k; v++) {
                                    int iy = i * cs.stride + u - cs.top;
                                    int ix = j * cs.stride + v - cs.left;
                                    if (iy >= 0 && iy < cs.h && ix >= 0 && ix < cs.w) {
                                        s += xv[((b * cs.c + c) * cs.h + iy) * cs.w + ix]
                                                * wv[((oc * cs.c + c) * cs.k + u) * cs.k + v];
                                    }
                                }
                            }
                        }
                        out[at++] = s;
                    }
                }
            }
        }
        return out;
    }

    @Test
    void handComputedWindowSums() {
        Tensor x = t(shape(1, 1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9);
        Tensor ones = Tensor.ones(1, 1, 2, 2);
        // 2×2 window sums 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9, plus bias 0.5
        assertValues(new double[] {12.5, 16.5, 24.5, 28.5}, shape(1, 1, 2, 2), F.conv2d(x, ones, t(shape(1), 0.5f), 1, 0),
                0);
        // padding 1, stride 2 with a 3×3 kernel of ones: the corner windows of the zero-padded image
        assertValues(new double[] {1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9}, shape(1, 1, 2, 2),
                F.conv2d(x, Tensor.ones(1, 1, 3, 3), null, 2, 1), 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forwardCases")
    void forwardAgainstNaiveConvolution(Case cs) {
        Tensor[] in = cs.params(1);
        assertValues(naiveConv(cs, in[0], in[1], in[2]), shape(cs.n, cs.o, cs.ho(), cs.wo()), cs.run(in), FP32);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientsOfInputWeightAndBias(Case cs) {
        GradCheck.check(cs::run, cs.params(10));
    }

    /**
     * A batch of small images (one GEMM over the batch, the weight read once) gives each image exactly what
     * convolving it alone gives: 3×3 and strided 3×3 at 8×8 and 5×7, 4 images, with bias.
     */
    @Test
    void aBatchOfSmallImagesIsEachImageConvolvedAlone() {
        int[][] geometries = {{8, 8, 1, 1}, {5, 7, 1, 1}, {8, 8, 2, 1}};
        for (int[] geo : geometries) {
            Tensor x = Rand.uniform(21, 4, 6, geo[0], geo[1]);
            Tensor w = Rand.uniform(22, 10, 6, 3, 3);
            Tensor b = Rand.uniform(23, 10);
            float[] batch = F.conv2d(x, w, b, geo[2], geo[3]).toFloatArray();
            int per = batch.length / 4;
            for (int i = 0; i < 4; i++) {
                float[] alone = F.conv2d(x.narrow(0, i, 1).contiguous(), w, b, geo[2], geo[3]).toFloatArray();
                float[] ofBatch = java.util.Arrays.copyOfRange(batch, i * per, (i + 1) * per);
                org.junit.jupiter.api.Assertions.assertArrayEquals(alone, ofBatch,
                        "image " + i + " of " + java.util.Arrays.toString(geo));
            }
        }
    }

    /**
     * The backward of a batch of small images (one product for the weight gradient over all positions, one for
     * the data gradient): each image's input gradient is what its own backward gives, and the weight and bias
     * gradients are the sums of the images' own, within fp32 rounding of the longer sums.
     */
    @Test
    void aBatchOfSmallImagesBackpropagatesAsEachImageAlone() {
        int[][] geometries = {{5, 7, 1, 1}, {8, 8, 2, 1}};
        for (int[] geo : geometries) {
            Tensor x = Rand.uniform(31, 3, 6, geo[0], geo[1]).requiresGrad(true);
            Tensor w = Rand.uniform(32, 10, 6, 3, 3).requiresGrad(true);
            Tensor b = Rand.uniform(33, 10).requiresGrad(true);
            Tensor y = F.conv2d(x, w, b, geo[2], geo[3]);
            Tensor r = Rand.uniform(34, y.shape());
            y.mul(r).sum().backward();
            float[] gx = x.grad().toFloatArray();
            double[] gw = new double[Math.toIntExact(w.numel())];
            double[] gb = new double[10];
            int perImage = gx.length / 3;
            for (int i = 0; i < 3; i++) {
                Tensor xi = x.detach().narrow(0, i, 1).contiguous().requiresGrad(true);
                Tensor wi = w.detach().requiresGrad(true);
                Tensor bi = b.detach().requiresGrad(true);
                F.conv2d(xi, wi, bi, geo[2], geo[3]).mul(r.narrow(0, i, 1)).sum().backward();
                float[] alone = xi.grad().toFloatArray();
                for (int k = 0; k < alone.length; k++) {
                    org.junit.jupiter.api.Assertions.assertEquals(alone[k], gx[i * perImage + k], 1e-6f * (1 + Math.abs(alone[k])),
                            "input gradient " + k + " of image " + i + " at " + java.util.Arrays.toString(geo));
                }
                float[] wAlone = wi.grad().toFloatArray();
                for (int k = 0; k < gw.length; k++) {
                    gw[k] += wAlone[k];
                }
                float[] bAlone = bi.grad().toFloatArray();
                for (int k = 0; k < 10; k++) {
                    gb[k] += bAlone[k];
                }
            }
            assertValues(gw, w.shape(), w.grad(), FP32);
            assertValues(gb, b.shape(), b.grad(), FP32);
        }
    }
}
