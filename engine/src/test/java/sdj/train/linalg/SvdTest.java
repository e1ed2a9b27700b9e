package sdj.train.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Jacobi SVD against matrices with known singular values (A = H₁·diag(s)·H₂ with Householder reflections
 * H), and on random matrices: reconstruction, orthonormal U and V, descending order.
 */
class SvdTest {
    @Test
    void findsKnownSingularValuesOfTallWideAndSquareMatrices() {
        int[][] shapes = {{7, 5}, {5, 7}, {12, 12}, {32, 64}, {128, 64}};
        Random random = new Random(3);
        for (int[] shape : shapes) {
            int m = shape[0];
            int n = shape[1];
            int k = Math.min(m, n);
            double[] s = new double[k];
            for (int i = 0; i < k; i++) {
                s[i] = Math.pow(10, -3.0 * i / k) * (1 + 0.1 * random.nextDouble()) * (k - i); // distinct, descending
            }
            double[] a = multiply(multiply(householder(m, random), m, m, diagonal(s, m, n), n), m, n,
                    householder(n, random), n);
            Svd svd = Svd.of(a, m, n);
            double[] got = svd.singularValues();
            for (int i = 0; i < k; i++) {
                assertEquals(s[i], got[i], 1e-13 * s[0], "σ" + i + " of a " + m + "×" + n + " matrix");
            }
            checkFactors(a, m, n, svd);
        }
    }

    @Test
    void decomposesRandomMatrices() {
        Random random = new Random(11);
        for (int[] shape : new int[][] {{1, 1}, {1, 6}, {6, 1}, {33, 17}, {17, 33}, {64, 64}}) {
            double[] a = new double[shape[0] * shape[1]];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextGaussian();
            }
            Svd svd = Svd.of(a, shape[0], shape[1]);
            double[] s = svd.singularValues();
            for (int i = 1; i < s.length; i++) {
                assertTrue(s[i] <= s[i - 1], "singular values descend");
            }
            checkFactors(a, shape[0], shape[1], svd);
        }
    }

    @Test
    void rankDeficientMatrixHasZeroSingularValues() {
        // rank 1: every row a multiple of (1, 2, 3); σ₁ = ‖(1,2,3)‖·‖(1,−2,0.5,4)‖
        double[] col = {1, -2, 0.5, 4};
        double[] row = {1, 2, 3};
        double[] a = new double[12];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                a[i * 3 + j] = col[i] * row[j];
            }
        }
        double[] s = Svd.of(a, 4, 3).singularValues();
        assertEquals(Math.sqrt(14) * Math.sqrt(21.25), s[0], 1e-13);
        assertEquals(0, s[1], 1e-14);
        assertEquals(0, s[2], 1e-14);
    }

    private static void checkFactors(double[] a, int m, int n, Svd svd) {
        int k = svd.rank();
        double[] u = svd.u();
        double[] s = svd.singularValues();
        double[] vt = svd.vt();
        double scale = 0;
        for (double v : a) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int r = 0; r < k; r++) {
                    sum += u[i * k + r] * s[r] * vt[r * n + j];
                }
                assertEquals(a[i * n + j], sum, 1e-13 * scale * Math.max(m, n), "U·S·Vᵀ at " + i + "," + j);
            }
        }
        for (int p = 0; p < k; p++) {
            for (int q = 0; q < k; q++) {
                double uu = 0;
                for (int i = 0; i < m; i++) {
                    uu += u[i * k + p] * u[i * k + q];
                }
                double vv = 0;
                for (int j = 0; j < n; j++) {
                    vv += vt[p * n + j] * vt[q * n + j];
                }
                assertEquals(p == q ? 1 : 0, uu, 1e-12, "UᵀU at " + p + "," + q);
                assertEquals(p == q ? 1 : 0, vv, 1e-12, "V ᵀV at " + p + "," + q);
            }
        }
    }

    /** I − 2wwᵀ/‖w‖², an orthogonal n×n matrix. */
    private static double[] householder(int n, Random random) {
        double[] w = new double[n];
        double norm2 = 0;
        for (int i = 0; i < n; i++) {
            w[i] = random.nextGaussian();
            norm2 += w[i] * w[i];
        }
        double[] h = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                h[i * n + j] = (i == j ? 1 : 0) - 2 * w[i] * w[j] / norm2;
            }
        }
        return h;
    }

    private static double[] diagonal(double[] s, int m, int n) {
        double[] d = new double[m * n];
        for (int i = 0; i < s.length; i++) {
            d[i * n + i] = s[i];
        }
        return d;
    }

    private static double[] multiply(double[] a, int m, int inner, double[] b, int n) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int k = 0; k < inner; k++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += a[i * inner + k] * b[k * n + j];
                }
            }
        }
        return c;
    }
}
