package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GemmTest {
    /**
     * fp32 accumulation of k products of values in [-1, 1]: the error grows like √k·2^-24·|partial sums|,
     * about 1e-6 at k = 300; 2e-5·max(1, |c|) keeps a margin of ten and still fails any wrong element.
     */
    private static final double TOL = 2e-5;
    private static final int[] SIZES = {1, 5, 6, 7, 31, 32, 33};

    private static float[] random(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = (float) rng.nextDouble(-1, 1);
        }
        return d;
    }

    /** C[i][j] = c0[i][j] + Σ_l A(i, l)·B(l, j) in double, reading the operands through their strides. */
    private static double[] naive(int m, int n, int k, Gemm.Operand a, Gemm.Operand b, float[] c0, int cOff, int ldc) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = c0 == null ? 0 : c0[cOff + i * ldc + j];
                for (int l = 0; l < k; l++) {
                    s += (double) a.data()[a.off() + i * a.rs() + l * a.cs()] * b.data()[b.off() + l * b.rs() + j * b.cs()];
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    private static void assertMatrix(double[] expected, float[] c, int cOff, int ldc, int m, int n) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double e = expected[i * n + j];
                float got = c[cOff + i * ldc + j];
                if (!(Math.abs(got - e) <= TOL * Math.max(1, Math.abs(e)))) {
                    fail(String.format("C[%d][%d] of %dx%d: expected %.7g, got %.7g", i, j, m, n, e, got));
                }
            }
        }
    }

    /**
     * Runs C (+)= A·B with A and B optionally stored transposed, both at a nonzero offset, and C a
     * sub-block (offset 3, leading dimension n + 2) of a larger buffer whose other entries must stay put.
     */
    private static void check(int m, int n, int k, boolean transA, boolean transB, boolean accumulate) {
        Gemm.Operand a = operand(random(1, m * k + 4), m, k, transA);
        Gemm.Operand b = operand(random(2, k * n + 4), k, n, transB);
        int ldc = n + 2;
        int cOff = 3;
        float[] c = random(3, cOff + m * ldc);
        float[] before = c.clone();
        double[] expected = naive(m, n, k, a, b, accumulate ? before : null, cOff, ldc);
        Gemm.sgemm(m, n, k, a, b, c, cOff, ldc, accumulate);
        assertMatrix(expected, c, cOff, ldc, m, n);
        for (int i = 0; i < c.length; i++) {
            int row = (i - cOff) / ldc;
            int col = (i - cOff) % ldc;
            if (i < cOff || col >= n || row >= m) {
                if (c[i] != before[i]) {
                    fail("element " + i + " outside C was written");
                }
            }
        }
    }

    /** A rows×cols matrix at offset 4, stored row-major or (transposed) column-major and read via t(). */
    private static Gemm.Operand operand(float[] data, int rows, int cols, boolean transposed) {
        return transposed ? Gemm.Operand.rowMajor(data, 4, rows).t() : Gemm.Operand.rowMajor(data, 4, cols);
    }

    static Stream<Arguments> smallSizes() {
        return IntStream.of(SIZES).boxed().flatMap(m -> IntStream.of(SIZES).boxed().flatMap(
                n -> IntStream.of(SIZES).mapToObj(k -> Arguments.of(m, n, k))));
    }

    @ParameterizedTest(name = "{0}x{1}x{2}")
    @MethodSource("smallSizes")
    void awkwardSmallSizes(int m, int n, int k) {
        check(m, n, k, false, false, false);
    }

    @ParameterizedTest(name = "{0}x{1}x{2}")
    @MethodSource("smallSizes")
    void transposedOperandsAndAccumulate(int m, int n, int k) {
        boolean transA = (m + n + k) % 2 == 0;
        check(m, n, k, transA, !transA, true);
    }

    @Test
    void sizesCrossingTheCacheBlocks() {
        // k > KC = 256, m > MC = 192, n > NC ≈ 4096 (cut to whole register panels; up to NC + NC/8 one block)
        check(97, 300, 300, false, false, false);
        check(33, 4700, 100, false, false, false); // two column blocks, the second short
        check(300, 9300, 40, true, false, true); // three column blocks, rows split across threads
        check(300, 97, 33, true, false, true);
        check(33, 4200, 300, false, true, false);
        check(7, 4097, 257, true, true, true);
        check(300, 4200, 40, false, true, false); // rows enough to split them and pack B in parallel
        check(37, 320, 70, true, false, false); // last register panel two vectors wide
        check(40, 64, 70, false, true, true); // last register panel one vector wide (n mod 48 = 16), A in place
        check(40, 256, 70, false, true, true); // ... with A packed (over four panels)
        check(61, 1024, 30, true, false, false);
        check(300, 17, 40, false, false, false); // few columns: computed transposed
        check(260, 9, 300, true, true, true);
        check(257, 40, 600, false, false, true); // one column panel: A's rows read in place, partial last tile
        check(9, 48, 300, false, true, false); // ... a full panel
        check(128, 1000, 200, false, false, false); // few rows, many panels: split by columns on 2+ threads
        // a conv at 8×8 (few panels, long k, rows split): each thread packs B for its own rows, A read in place
        check(300, 128, 600, false, false, false); // panels 48 + 48 + 32 (two vectors)
        check(301, 130, 520, false, false, true); // ... a partial last panel and row tile, accumulating
        check(300, 150, 300, true, false, false); // A transposed: packed, B still per thread
    }

    /**
     * C = row + A·B over every path (register tiles, edge tiles, A read in place, the transposed narrow product,
     * rows or columns split across threads, k = 0): the row, not C's old contents, is where each element starts,
     * bit for bit what adding the product into rows pre-filled with it gives.
     */
    @ParameterizedTest(name = "{0}x{1}x{2}")
    @org.junit.jupiter.params.provider.CsvSource({"37, 100, 300", "300, 17, 40", "257, 40, 600", "9, 48, 300",
        "128, 1000, 200", "300, 128, 600", "5, 7, 0", "1, 1, 1", "300, 4200, 40", "33, 4700, 100", "300, 9300, 40"})
    void productAddedToARowEqualsTheProductIntoPrefilledRowsBitForBit(int m, int n, int k) {
        Gemm.Operand a = operand(random(1, m * k + 4), m, k, false);
        Gemm.Operand b = operand(random(2, k * n + 4), k, n, true);
        float[] row = random(4, n);
        int ldc = n + 2;
        int cOff = 3;
        float[] c = random(3, cOff + m * ldc);
        float[] before = c.clone();
        float[] prefilled = c.clone();
        for (int i = 0; i < m; i++) {
            System.arraycopy(row, 0, prefilled, cOff + i * ldc, n);
        }
        double[] expected = naive(m, n, k, a, b, prefilled, cOff, ldc);
        Gemm.sgemmAddingRow(m, n, k, a, b, c, cOff, ldc, row);
        assertMatrix(expected, c, cOff, ldc, m, n);
        Gemm.sgemm(m, n, k, a, b, prefilled, cOff, ldc, true);
        for (int i = 0; i < c.length; i++) {
            boolean inside = i >= cOff && (i - cOff) % ldc < n && (i - cOff) / ldc < m;
            if (Float.floatToIntBits(c[i]) != Float.floatToIntBits(inside ? prefilled[i] : before[i])) {
                fail("element " + i + (inside ? " differs from the pre-filled product" : " outside C was written"));
            }
        }
    }

    @Test
    void degenerateSizes() {
        check(5, 7, 0, false, false, false); // k = 0 clears C
        check(5, 7, 0, false, false, true); // ... or leaves it when accumulating
        check(0, 7, 5, false, false, false);
    }

    @Test
    void multiThreadedMatchesSingleThreadedExactly() {
        // splitting along M or N does not change any element's summation order, so results are bit-identical
        int saved = Parallel.threads();
        try {
            // rows split; columns split (few rows); few rows and few panels (rows split); narrow; 128 rows
            // over 1000 columns (columns split: too few rows to share B's packing); few panels over a long k
            // (each thread packs B for its own rows)
            int[][] shapes = {{300, 97, 300}, {5, 3000, 300}, {130, 130, 130}, {258, 40, 600}, {128, 1000, 200},
                    {600, 128, 700}};
            for (int[] s : shapes) {
                Parallel.setThreads(1);
                float[] single = product(s[0], s[1], s[2]);
                Parallel.setThreads(4);
                float[] multi = product(s[0], s[1], s[2]);
                assertArrayEquals(single, multi, "threads changed the result for " + s[0] + "x" + s[1] + "x" + s[2]);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void operandsReadFromANativeSegmentGiveTheArraysResultsBitForBit() {
        // the shapes of sizesCrossingTheCacheBlocks: packed A and B, transposed B (a Linear's Wᵀ), the
        // transposed product for few columns (the segment operand then becomes A), one column panel
        // (where an array A is read in place but a segment A is packed)
        int[][] shapes = {{97, 300, 300}, {300, 97, 33}, {33, 4200, 300}, {300, 17, 40}, {257, 40, 600}, {9, 48, 300},
            {128, 1000, 200}, {37, 320, 70}};
        for (int[] sh : shapes) {
            int m = sh[0];
            int n = sh[1];
            int k = sh[2];
            for (int variant = 0; variant < 4; variant++) {
                boolean trans = variant % 2 == 1;
                boolean segmentIsA = variant >= 2;
                float[] av = random(6, m * k + 4);
                float[] bv = random(7, k * n + 4);
                Gemm.Operand a = operand(av, m, k, segmentIsA && trans);
                Gemm.Operand b = operand(bv, k, n, !segmentIsA && trans);
                float[] expected = new float[m * n];
                Gemm.sgemm(m, n, k, a, b, expected, 0, n, false);
                float[] got = new float[m * n];
                try (Arena arena = Arena.ofShared()) { // the GEMM's worker threads read it
                    Gemm.Operand onSegment = inSegment(arena, segmentIsA ? a : b);
                    Gemm.sgemm(m, n, k, segmentIsA ? onSegment : a, segmentIsA ? b : onSegment, got, 0, n, false);
                }
                assertArrayEquals(expected, got, m + "x" + n + "x" + k + " variant " + variant);
            }
        }
    }

    /** The same operand with its array copied into native memory (as a mapped checkpoint's weight). */
    private static Gemm.Operand inSegment(Arena arena, Gemm.Operand o) {
        MemorySegment seg = arena.allocate(4L * o.data().length, 4);
        MemorySegment.copy(o.data(), 0, seg, Gemm.SEGMENT_FLOAT, 0, o.data().length);
        return Gemm.Operand.inSegment(seg, o.off(), o.rs(), o.cs());
    }

    private static float[] product(int m, int n, int k) {
        float[] c = new float[m * n];
        Gemm.sgemm(m, n, k, Gemm.Operand.rowMajor(random(4, m * k), 0, k), Gemm.Operand.rowMajor(random(5, k * n), 0, n),
                c, 0, n, false);
        return c;
    }
}
