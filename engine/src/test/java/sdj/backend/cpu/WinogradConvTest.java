package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import sdj.ops.Conv;
import sdj.ops.GradCheck;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * Winograd 3×3 convolution (forward, data gradient, weight gradient) against a float64 reference, the
 * direct fp32 convolution and the existing backward.
 *
 * <p>Tolerance, per output element: the Winograd result is a chain of linear maps (input transform Bᵀ·B,
 * the channel sum of the element-wise products with the filter transform G·Gᵀ, output transform Aᵀ·A), each
 * rounding in fp32. To first order in the unit roundoff u = 2⁻²⁴ its error is at most γ_D times the same
 * chain evaluated with every matrix and datum replaced by its absolute value, where D = C + 4α + 12 is
 * the depth of the longest sum (C channels, two α-term passes on each side, the filter transform's
 * two 3-term passes with G rounded to fp32 (8, rounded up to 10), the bias) and γ_D = D·u / (1 − D·u). The growth of the transform (|Aᵀ|, |G|, |Bᵀ| hold up to 8, 1 and 5 for
 * F(4,3)) is inside that absolute chain, so F(4,3) gets a looser bound than F(2,3) and direct convolution
 * (γ_{9C+1}·Σ|x·w|) without a hand-picked factor. A wrong coefficient, index or tile edge gives errors of
 * the size of the outputs themselves, far above the bound.
 */
class WinogradConvTest {
    private static final double U = Math.ulp(1.0f) / 2;

    /** Bᵀ, G, Aᵀ of F(2,3) and F(4,3) written out independently of the production code (Lavin & Gray). */
    record Matrices(WinogradTiles tiles, double[][] bt, double[][] g, double[][] at) {
    }

    static final Matrices F23 = new Matrices(WinogradTiles.F2,
            new double[][] {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
            new double[][] {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}},
            new double[][] {{1, 1, 1, 0}, {0, 1, -1, -1}});
    static final Matrices F43 = new Matrices(WinogradTiles.F4,
            new double[][] {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0},
                {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
            new double[][] {{1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
                {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}},
            new double[][] {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}});

    static Stream<Matrices> both() {
        return Stream.of(F23, F43);
    }

    /**
     * One shape: images, input channels, output channels, height, width, bias, tiles per chunk and output channels
     * per block of transformed filters (0 = default).
     */
    record Case(Matrices f, int n, int c, int o, int h, int w, boolean bias, int chunk, int block) {
        Case(Matrices f, int n, int c, int o, int h, int w, boolean bias, int chunk) {
            this(f, n, c, o, h, w, bias, chunk, 0);
        }

        @Override
        public String toString() {
            return "F(" + f.tiles.m + ",3) n" + n + " c" + c + " o" + o + " " + h + "x" + w + (bias ? " bias" : "")
                    + (chunk > 0 ? " chunks of " + chunk : "") + (block > 0 ? " filter blocks of " + block : "");
        }
    }

    static Stream<Case> cases() {
        return both().flatMap(f -> Stream.of(
                new Case(f, 1, 3, 4, 4, 4, true, 0), // whole tiles for F(2,3) and F(4,3)
                new Case(f, 2, 5, 3, 7, 9, true, 0), // odd sizes, partial tiles on both edges
                new Case(f, 3, 8, 6, 5, 6, false, 0),
                new Case(f, 2, 17, 9, 13, 11, true, 5), // chunks that split images and tile rows
                new Case(f, 1, 2, 3, 1, 1, true, 0), // one pixel: all but the centre tap is padding
                new Case(f, 2, 4, 5, 2, 3, false, 1),
                new Case(f, 1, 33, 20, 24, 10, true, 0),
                new Case(f, 1, 33, 20, 24, 10, true, 0, 7), // filter blocks, one chunk: each block transformed once
                new Case(f, 2, 17, 9, 13, 11, true, 5, 4), // blocks and chunks: re-transformed per chunk
                // rows of 16 or 32 tiles, whole vectors, read in place by the output pass; k past one Gemm.KC block
                new Case(f, 2, 260, 20, 9, 64, true, 0),
                new Case(f, 2, 6, 5, 12, 64, true, 24), // chunks of whole rows and of split ones
                new Case(f, 1, 3, 2, 9, 192, true, 0))); // rows of several groups of whole vectors of tiles
    }

    /** The exact 1-D identity Aᵀ[(G g) ⊙ (Bᵀ d)] = (Σ_k d[i+k]·g[k])_i, checked for the test's own matrices. */
    @ParameterizedTest
    @MethodSource("both")
    void matricesComputeTheCorrelation(Matrices f) {
        SplittableRandom rng = new SplittableRandom(7);
        int alpha = f.bt.length;
        for (int trial = 0; trial < 20; trial++) {
            double[] d = rng.doubles(alpha, -1, 1).toArray();
            double[] g = rng.doubles(3, -1, 1).toArray();
            double[] prod = new double[alpha];
            double[] gg = apply(f.g, g);
            double[] bd = apply(f.bt, d);
            for (int i = 0; i < alpha; i++) {
                prod[i] = gg[i] * bd[i];
            }
            double[] y = apply(f.at, prod);
            for (int i = 0; i < y.length; i++) {
                assertEquals(d[i] * g[0] + d[i + 1] * g[1] + d[i + 2] * g[2], y[i], 1e-12);
            }
        }
    }

    /** The production matrices are these (G rounded once to fp32). */
    @ParameterizedTest
    @MethodSource("both")
    void productionMatricesAreTheseMatrices(Matrices f) {
        WinogradTiles t = f.tiles;
        int alpha = f.bt.length;
        for (int i = 0; i < alpha; i++) {
            for (int k = 0; k < alpha; k++) {
                assertEquals(f.bt[i][k], t.bt[i][k], 0, "Bᵀ[" + i + "][" + k + "]");
                if (i < f.at.length) {
                    assertEquals(f.at[i][k], t.at[i][k], 0, "Aᵀ[" + i + "][" + k + "]");
                }
            }
            for (int k = 0; k < 3; k++) {
                assertEquals(f.g[i][k], t.g[i][k], 0, "G[" + i + "][" + k + "]");
                assertEquals((float) f.g[i][k], t.gf[i][k], 0, "G in fp32 [" + i + "][" + k + "]");
            }
        }
        assertEquals(alpha - 2, t.m);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardWithinTheFp32BoundOfFloat64(Case cs) {
        float[] x = random(1, cs.n * cs.c * cs.h * cs.w);
        float[] w = random(2, cs.o * cs.c * 9);
        float[] b = cs.bias ? random(3, cs.o) : null;
        float[] y = CpuWinograd.conv3x3(cs.f.tiles, x, cs.n, cs.c, cs.h, cs.w, Tensor.of(w, cs.o, cs.c, 3, 3), cs.o, false, b,
                cs.chunk, cs.block);
        assertWithinBound(cs, x, w, b, y);
    }

    /** The data gradient's mode: the filter of (out ic, in oc) is w[oc][ic] rotated by 180°. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void transposedFiltersAreTheRotatedTranspose(Case cs) {
        float[] x = random(4, cs.n * cs.c * cs.h * cs.w);
        float[] w = random(5, cs.c * cs.o * 9); // shape [c, o, 3, 3], as the forward weight of an o→c conv
        float[] rotated = new float[w.length];
        for (int oc = 0; oc < cs.o; oc++) {
            for (int ic = 0; ic < cs.c; ic++) {
                for (int k = 0; k < 9; k++) {
                    rotated[(oc * cs.c + ic) * 9 + k] = w[(ic * cs.o + oc) * 9 + 8 - k];
                }
            }
        }
        float[] y = CpuWinograd.conv3x3(cs.f.tiles, x, cs.n, cs.c, cs.h, cs.w, Tensor.of(w, cs.c, cs.o, 3, 3), cs.o, true, null,
                cs.chunk, cs.block);
        assertWithinBound(cs, x, rotated, null, y);
    }

    /** A filter bank read in place from a native segment (a mapped checkpoint) gives the heap array's bits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void filtersReadFromASegmentGiveTheHeapResultBitForBit(Case cs) {
        float[] x = random(6, cs.n * cs.c * cs.h * cs.w);
        float[] w = random(7, cs.o * cs.c * 9);
        try (Arena arena = Arena.ofShared()) { // shared: the transform runs on the pool's threads
            MemorySegment seg = arena.allocate(4L * w.length);
            MemorySegment.copy(w, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0,
                    w.length);
            for (boolean transposed : new boolean[] {false, true}) {
                int[] shape = transposed ? new int[] {cs.c, cs.o, 3, 3} : new int[] {cs.o, cs.c, 3, 3};
                Tensor mapped = new Tensor(Storage.ofSegment(seg, DType.F32), shape, Shape.contiguousStrides(shape), 0);
                float[] fromHeap = CpuWinograd.conv3x3(cs.f.tiles, x, cs.n, cs.c, cs.h, cs.w, Tensor.of(w, shape), cs.o,
                        transposed, null, cs.chunk, cs.block);
                float[] fromSegment = CpuWinograd.conv3x3(cs.f.tiles, x, cs.n, cs.c, cs.h, cs.w, mapped, cs.o,
                        transposed, null, cs.chunk, cs.block);
                assertArrayEquals(fromHeap, fromSegment, cs + (transposed ? ", transposed" : ""));
            }
        }
    }

    /**
     * The weight gradient through the adjoint transforms against Σ gy·x in float64. Its bound is the same
     * first-order one: γ_D times Gᵀ[Σ_tiles (|A||gY||A|ᵀ) ⊙ (|Bᵀ||d||B|)]G in absolute values, D = tiles + 8α
     * (the sum over tiles, two m-term passes over gY, two α-term passes over d and two over dU).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void weightGradientWithinTheFp32BoundOfFloat64(Case cs) {
        float[] x = random(6, cs.n * cs.c * cs.h * cs.w);
        float[] gy = random(7, cs.n * cs.o * cs.h * cs.w);
        float[] gw = WinogradWeightGrad.weightGrad(cs.f.tiles, x, gy, cs.n, cs.c, cs.h, cs.w, cs.o, cs.chunk);
        assertWeightGradWithinBound(cs, x, gy, gw);
    }

    /** Through the op: the direct conv meets its own bound on the same cases (the yardstick the bound is cut from). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void directConvolutionMeetsItsBound(Case cs) {
        float[] x = random(1, cs.n * cs.c * cs.h * cs.w);
        float[] w = random(2, cs.o * cs.c * 9);
        float[] b = cs.bias ? random(3, cs.o) : null;
        float[] y = withMode("direct", () -> Conv.conv2d(Tensor.of(x, cs.n, cs.c, cs.h, cs.w),
                Tensor.of(w, cs.o, cs.c, 3, 3), b == null ? null : Tensor.of(b, cs.o), 1, 1)).floats();
        double[] ref = reference(cs, x, w, b);
        double[] abs = directAbs(cs, x, w, b);
        double gamma = gamma(9 * cs.c + 1);
        for (int i = 0; i < y.length; i++) {
            assertTrue(Math.abs(y[i] - ref[i]) <= gamma * abs[i], "element " + i);
        }
    }

    /** Forced Winograd through Conv.conv2d: forward and all three gradients against float64 and the direct path. */
    @ParameterizedTest
    @MethodSource("both")
    void gradientsAgreeWithTheDirectBackward(Matrices f) {
        Case cs = new Case(f, 2, 6, 5, 9, 7, true, 0);
        String mode = f == F23 ? "f23" : "f43";
        Tensor[] win = convAndGrad(mode, cs);
        Tensor[] direct = convAndGrad("direct", cs);
        float[] gy = random(9, cs.n * cs.o * cs.h * cs.w);
        // the data gradient is a Winograd conv of gy (C = o channels) with the rotated transposed weight
        float[] w = direct[2].floats();
        float[] rotated = new float[w.length];
        for (int ic = 0; ic < cs.c; ic++) {
            for (int oc = 0; oc < cs.o; oc++) {
                for (int k = 0; k < 9; k++) {
                    rotated[(ic * cs.o + oc) * 9 + k] = w[(oc * cs.c + ic) * 9 + 8 - k];
                }
            }
        }
        Case back = new Case(f, cs.n, cs.o, cs.c, cs.h, cs.w, false, 0);
        assertWithinBound(back, gy, rotated, null, win[1].grad().floats());
        float[] dx = direct[1].grad().floats();
        double[] ref = reference(back, gy, rotated, null);
        double[] abs = directAbs(back, gy, rotated, null);
        for (int i = 0; i < dx.length; i++) {
            assertTrue(Math.abs(dx[i] - ref[i]) <= gamma(9 * cs.o) * abs[i], "direct dx element " + i);
        }
        // the weight gradient through the adjoint transforms; the bias gradient is the same sum either way
        assertWeightGradWithinBound(cs, direct[1].floats(), gy, win[2].grad().floats());
        double[] dw = weightGradReference(cs, direct[1].floats(), gy, false);
        double[] dwAbs = weightGradReference(cs, direct[1].floats(), gy, true);
        float[] directDw = direct[2].grad().floats();
        for (int i = 0; i < dw.length; i++) {
            assertTrue(Math.abs(directDw[i] - dw[i]) <= gamma(cs.n * cs.h * cs.w + 1) * dwAbs[i], "direct dW element " + i);
        }
        assertArrayEquals(direct[3].grad().floats(), win[3].grad().floats());
        assertWithinBound(cs, direct[1].floats(), w, direct[3].floats(), win[0].floats());
    }

    /** Finite differences through the forced F(4,3) path (the backward of the op, not only its pieces). */
    @Test
    void finiteDifferencesThroughF43() {
        withMode("f43", () -> {
            GradCheck.check(in -> Conv.conv2d(in[0], in[1], in[2], 1, 1), GradCheck.Rand.param(21, 2, 3, 6, 5),
                    GradCheck.Rand.param(22, 4, 3, 3, 3), GradCheck.Rand.param(23, 4));
            return null;
        });
    }

    @Test
    void unknownModeIsRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> withMode("fast", () -> Conv.conv2d(
                Tensor.ones(1, 1, 4, 4), Tensor.ones(1, 1, 3, 3), null, 1, 1)));
        assertTrue(e.getMessage().contains("sdj.conv") && e.getMessage().contains("direct"), e.getMessage());
    }

    /** {output, x, weight, bias} after output·r summed and backpropagated, r a fixed random projection. */
    private static Tensor[] convAndGrad(String mode, Case cs) {
        return withMode(mode, () -> {
            Tensor x = Tensor.of(random(1, cs.n * cs.c * cs.h * cs.w), cs.n, cs.c, cs.h, cs.w).requiresGrad(true);
            Tensor w = Tensor.of(random(2, cs.o * cs.c * 9), cs.o, cs.c, 3, 3).requiresGrad(true);
            Tensor b = Tensor.of(random(3, cs.o), cs.o).requiresGrad(true);
            Tensor y = Conv.conv2d(x, w, b, 1, 1);
            Tensor r = Tensor.of(random(9, cs.n * cs.o * cs.h * cs.w), y.shape());
            y.mul(r).sum().backward();
            return new Tensor[] {y, x, w, b};
        });
    }

    private static <T> T withMode(String mode, java.util.function.Supplier<T> body) {
        String before = System.getProperty("sdj.conv");
        System.setProperty("sdj.conv", mode);
        try {
            return body.get();
        } finally {
            if (before == null) {
                System.clearProperty("sdj.conv");
            } else {
                System.setProperty("sdj.conv", before);
            }
        }
    }

    private static void assertWithinBound(Case cs, float[] x, float[] w, float[] b, float[] y) {
        double[] ref = reference(cs, x, w, b);
        double[] abs = winogradAbs(cs, x, w, b);
        double gamma = gamma(cs.c + 4 * cs.f.tiles.alpha + 12);
        assertEquals(ref.length, y.length);
        for (int i = 0; i < y.length; i++) {
            double err = Math.abs(y[i] - ref[i]);
            assertTrue(err <= gamma * abs[i], cs + ": element " + i + " is " + y[i] + ", float64 gives " + ref[i]
                    + ", bound " + gamma * abs[i]);
        }
    }

    private static void assertWeightGradWithinBound(Case cs, float[] x, float[] gy, float[] gw) {
        double[] ref = weightGradReference(cs, x, gy, false);
        double[] abs = weightGradAbs(cs, x, gy);
        int tiles = cs.n * ((cs.h + cs.f.tiles.m - 1) / cs.f.tiles.m) * ((cs.w + cs.f.tiles.m - 1) / cs.f.tiles.m);
        double gamma = gamma(tiles + 8 * cs.f.tiles.alpha);
        assertEquals(ref.length, gw.length);
        for (int i = 0; i < gw.length; i++) {
            assertTrue(Math.abs(gw[i] - ref[i]) <= gamma * abs[i], cs + ": dW element " + i + " is " + gw[i]
                    + ", float64 gives " + ref[i] + ", bound " + gamma * abs[i]);
        }
    }

    /** dW[o][c][u][v] = Σ gy[b][o][i][j]·x[b][c][i+u−1][j+v−1] in float64 (or over |gy·x|). */
    private static double[] weightGradReference(Case cs, float[] x, float[] gy, boolean abs) {
        double[] out = new double[cs.o * cs.c * 9];
        for (int b = 0; b < cs.n; b++) {
            for (int oc = 0; oc < cs.o; oc++) {
                for (int c = 0; c < cs.c; c++) {
                    for (int u = 0; u < 9; u++) {
                        double s = 0;
                        for (int i = 0; i < cs.h; i++) {
                            for (int j = 0; j < cs.w; j++) {
                                int iy = i + u / 3 - 1;
                                int ix = j + u % 3 - 1;
                                if (iy >= 0 && iy < cs.h && ix >= 0 && ix < cs.w) {
                                    double p = (double) gy[((b * cs.o + oc) * cs.h + i) * cs.w + j]
                                            * x[((b * cs.c + c) * cs.h + iy) * cs.w + ix];
                                    s += abs ? Math.abs(p) : p;
                                }
                            }
                        }
                        out[(oc * cs.c + c) * 9 + u] += s;
                    }
                }
            }
        }
        return out;
    }

    /** Gᵀ[Σ_tiles (|A||gY||A|ᵀ) ⊙ (|Bᵀ||d||B|)]G per filter, all in absolute values. */
    private static double[] weightGradAbs(Case cs, float[] x, float[] gy) {
        int m = cs.f.tiles.m;
        int alpha = cs.f.tiles.alpha;
        double[][] bt = abs(cs.f.bt);
        double[][] a = transpose(abs(cs.f.at));
        double[][] gt = transpose(abs(cs.f.g));
        double[][][][] acc = new double[cs.o][cs.c][alpha][alpha];
        for (int n = 0; n < cs.n; n++) {
            for (int ty = 0; ty * m < cs.h; ty++) {
                for (int tx = 0; tx * m < cs.w; tx++) {
                    double[][][] v = new double[cs.c][][];
                    for (int c = 0; c < cs.c; c++) {
                        double[][] d = new double[alpha][alpha];
                        for (int i = 0; i < alpha; i++) {
                            for (int j = 0; j < alpha; j++) {
                                int iy = ty * m + i - 1;
                                int ix = tx * m + j - 1;
                                boolean in = iy >= 0 && iy < cs.h && ix >= 0 && ix < cs.w;
                                d[i][j] = in ? Math.abs(x[((n * cs.c + c) * cs.h + iy) * cs.w + ix]) : 0;
                            }
                        }
                        v[c] = sandwich(bt, d);
                    }
                    for (int oc = 0; oc < cs.o; oc++) {
                        double[][] t = new double[m][m];
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < m; j++) {
                                int iy = ty * m + i;
                                int ix = tx * m + j;
                                t[i][j] = iy < cs.h && ix < cs.w ? Math.abs(gy[((n * cs.o + oc) * cs.h + iy) * cs.w + ix]) : 0;
                            }
                        }
                        double[][] gg = sandwich(a, t);
                        for (int c = 0; c < cs.c; c++) {
                            for (int i = 0; i < alpha; i++) {
                                for (int j = 0; j < alpha; j++) {
                                    acc[oc][c][i][j] += gg[i][j] * v[c][i][j];
                                }
                            }
                        }
                    }
                }
            }
        }
        double[] out = new double[cs.o * cs.c * 9];
        for (int oc = 0; oc < cs.o; oc++) {
            for (int c = 0; c < cs.c; c++) {
                double[][] k = sandwich(gt, acc[oc][c]);
                for (int u = 0; u < 9; u++) {
                    out[(oc * cs.c + c) * 9 + u] = k[u / 3][u % 3];
                }
            }
        }
        return out;
    }

    private static double[][] transpose(double[][] mat) {
        double[][] out = new double[mat[0].length][mat.length];
        for (int i = 0; i < mat.length; i++) {
            for (int j = 0; j < mat[0].length; j++) {
                out[j][i] = mat[i][j];
            }
        }
        return out;
    }

    private static double gamma(int depth) {
        return depth * U / (1 - depth * U);
    }

    /** y[b][oc][i][j] = bias + Σ x[b][c][i+u−1][j+v−1]·w[oc][c][u][v] in float64. */
    private static double[] reference(Case cs, float[] x, float[] w, float[] b) {
        return conv(cs, x, w, b, false);
    }

    /** The same sum over |x|·|w| (+|bias|): what bounds direct convolution's rounding. */
    private static double[] directAbs(Case cs, float[] x, float[] w, float[] b) {
        return conv(cs, x, w, b, true);
    }

    private static double[] conv(Case cs, float[] x, float[] w, float[] b, boolean abs) {
        double[] out = new double[cs.n * cs.o * cs.h * cs.w];
        for (int n = 0; n < cs.n; n++) {
            for (int oc = 0; oc < cs.o; oc++) {
                for (int i = 0; i < cs.h; i++) {
                    for (int j = 0; j < cs.w; j++) {
                        double s = b == null ? 0 : abs ? Math.abs(b[oc]) : b[oc];
                        for (int c = 0; c < cs.c; c++) {
                            for (int u = 0; u < 3; u++) {
                                for (int v = 0; v < 3; v++) {
                                    int iy = i + u - 1;
                                    int ix = j + v - 1;
                                    if (iy >= 0 && iy < cs.h && ix >= 0 && ix < cs.w) {
                                        double p = (double) x[((n * cs.c + c) * cs.h + iy) * cs.w + ix]
                                                * w[((oc * cs.c + c) * 3 + u) * 3 + v];
                                        s += abs ? Math.abs(p) : p;
                                    }
                                }
                            }
                        }
                        out[((n * cs.o + oc) * cs.h + i) * cs.w + j] = s;
                    }
                }
            }
        }
        return out;
    }

    /** |b| + Σ_c |Aᵀ|(|G||g||G|ᵀ ⊙ |Bᵀ||d||B|)|A| per output pixel, d the tile's zero-padded input window. */
    private static double[] winogradAbs(Case cs, float[] x, float[] w, float[] b) {
        int m = cs.f.tiles.m;
        int alpha = cs.f.tiles.alpha;
        double[][] bt = abs(cs.f.bt);
        double[][] g = abs(cs.f.g);
        double[][] at = abs(cs.f.at);
        double[] out = new double[cs.n * cs.o * cs.h * cs.w];
        for (int n = 0; n < cs.n; n++) {
            for (int ty = 0; ty * m < cs.h; ty++) {
                for (int tx = 0; tx * m < cs.w; tx++) {
                    double[][][] v = new double[cs.c][][];
                    for (int c = 0; c < cs.c; c++) {
                        double[][] d = new double[alpha][alpha];
                        for (int i = 0; i < alpha; i++) {
                            for (int j = 0; j < alpha; j++) {
                                int iy = ty * m + i - 1;
                                int ix = tx * m + j - 1;
                                boolean in = iy >= 0 && iy < cs.h && ix >= 0 && ix < cs.w;
                                d[i][j] = in ? Math.abs(x[((n * cs.c + c) * cs.h + iy) * cs.w + ix]) : 0;
                            }
                        }
                        v[c] = sandwich(bt, d);
                    }
                    for (int oc = 0; oc < cs.o; oc++) {
                        double[][] sum = new double[alpha][alpha];
                        for (int c = 0; c < cs.c; c++) {
                            double[][] k = new double[3][3];
                            for (int u = 0; u < 9; u++) {
                                k[u / 3][u % 3] = Math.abs(w[(oc * cs.c + c) * 9 + u]);
                            }
                            double[][] uu = sandwich(g, k);
                            for (int i = 0; i < alpha; i++) {
                                for (int j = 0; j < alpha; j++) {
                                    sum[i][j] += uu[i][j] * v[c][i][j];
                                }
                            }
                        }
                        double[][] y = sandwich(at, sum);
                        for (int i = 0; i < m && ty * m + i < cs.h; i++) {
                            for (int j = 0; j < m && tx * m + j < cs.w; j++) {
                                out[((n * cs.o + oc) * cs.h + ty * m + i) * cs.w + tx * m + j] = y[i][j]
                                        + (b == null ? 0 : Math.abs(b[oc]));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** M · X · Mᵀ. */
    private static double[][] sandwich(double[][] mat, double[][] x) {
        int r = mat.length;
        int k = x.length;
        double[][] left = new double[r][k];
        for (int i = 0; i < r; i++) {
            left[i] = apply(x, mat[i], true);
        }
        double[][] out = new double[r][r];
        for (int i = 0; i < r; i++) {
            out[i] = apply(mat, left[i]);
        }
        return out;
    }

    /** mat · v. */
    private static double[] apply(double[][] mat, double[] v) {
        double[] out = new double[mat.length];
        for (int i = 0; i < mat.length; i++) {
            for (int k = 0; k < v.length; k++) {
                out[i] += mat[i][k] * v[k];
            }
        }
        return out;
    }

    /** vᵀ · x (row vector times matrix) when {@code transposed}. */
    private static double[] apply(double[][] x, double[] v, boolean transposed) {
        double[] out = new double[x[0].length];
        for (int k = 0; k < v.length; k++) {
            for (int j = 0; j < out.length; j++) {
                out[j] += v[k] * x[k][j];
            }
        }
        return out;
    }

    private static double[][] abs(double[][] mat) {
        double[][] out = new double[mat.length][];
        for (int i = 0; i < mat.length; i++) {
            out[i] = java.util.Arrays.stream(mat[i]).map(Math::abs).toArray();
        }
        return out;
    }

    private static float[] random(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) rng.nextDouble(-1, 1);
        }
        return out;
    }
}
