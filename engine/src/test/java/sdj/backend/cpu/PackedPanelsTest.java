package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** B written straight into the product's panel layout gives the product of B, with no packing copy. */
class PackedPanelsTest {
    @ParameterizedTest(name = "m{0} k{1} n{2}")
    @CsvSource({"37, 300, 100", "4, 256, 48", "9, 7, 5", "64, 513, 200", "3, 1, 1"})
    void productEqualsFloat64ProductAndRowMajorGemmBitForBit(int m, int k, int n) {
        Random r = new Random(m * 1000L + k * 7L + n);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() - 0.5f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextFloat() - 0.5f;
        }
        PackedPanels layout = new PackedPanels(k, n);
        int off = 11;
        float[] packed = new float[off + layout.size()];
        java.util.Arrays.fill(packed, Float.NaN); // padding columns must never reach C
        for (int p = 0; p < k; p++) {
            // rows written in two pieces, the second starting inside a panel
            int split = Math.min(n, 29);
            layout.putRow(b, p * n, packed, off, p, 0, split);
            layout.putRow(b, p * n + split, packed, off, p, split, n - split);
        }
        float[] c = new float[m * (n + 3)];
        layout.multiply(m, Gemm.Operand.rowMajor(a, 0, k), packed, off, c, 0, n + 3);
        float[] viaGemm = new float[m * n];
        Gemm.sgemm(m, n, k, Gemm.Operand.rowMajor(a, 0, k), Gemm.Operand.rowMajor(b, 0, n), viaGemm, 0, n, false);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double abs = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a[i * k + p] * b[p * n + j];
                    abs += Math.abs((double) a[i * k + p] * b[p * n + j]);
                }
                float got = c[i * (n + 3) + j];
                assertTrue(Math.abs(got - sum) <= 1e-6 * abs + 1e-30, "C(" + i + ", " + j + ") = " + got + ", float64 " + sum);
                assertEquals(viaGemm[i * n + j], got, 0f, "C(" + i + ", " + j + ") against Gemm.sgemm");
            }
        }
    }

    @ParameterizedTest(name = "k{0} n{1}")
    @CsvSource({"300, 100", "40, 4096", "513, 40", "7, 5"})
    void packPutsEveryElementOfARowMajorOrTransposedOperandAtItsIndexAndZerosThePadding(int k, int n) {
        float[] b = new float[k * n]; // B(p, j) = b[p·n + j]; its transpose is stored as bt[j·k + p]
        float[] bt = new float[k * n];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                b[p * n + j] = p * 10000f + j + 1;
                bt[j * k + p] = b[p * n + j];
            }
        }
        PackedPanels layout = new PackedPanels(k, n);
        for (Gemm.Operand operand : new Gemm.Operand[] {Gemm.Operand.rowMajor(b, 0, n), Gemm.Operand.rowMajor(bt, 0, k).t()}) {
            int off = 5;
            float[] packed = new float[off + layout.size() + 3];
            java.util.Arrays.fill(packed, Float.NaN);
            layout.pack(operand, packed, off);
            boolean[] element = new boolean[packed.length];
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) {
                    assertEquals(b[p * n + j], packed[off + layout.index(p, j)], "B(" + p + ", " + j + ")");
                    element[off + layout.index(p, j)] = true;
                }
            }
            for (int i = 0; i < packed.length; i++) {
                boolean inside = i >= off && i < off + layout.size();
                if (!element[i]) {
                    assertEquals(inside ? 0f : Float.NaN, packed[i], "padding at " + i);
                }
            }
        }
    }

    @ParameterizedTest(name = "k{0} n{1}")
    @CsvSource({"300, 100", "256, 48", "7, 5"})
    void everyElementHasItsOwnPlaceInsideTheLayout(int k, int n) {
        PackedPanels layout = new PackedPanels(k, n);
        boolean[] taken = new boolean[layout.size()];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                int at = layout.index(p, j);
                assertTrue(at >= 0 && at < taken.length && !taken[at], "B(" + p + ", " + j + ") at " + at);
                taken[at] = true;
            }
        }
        assertEquals((long) k * n, java.util.stream.IntStream.range(0, taken.length).filter(i -> taken[i]).count());
    }
}
