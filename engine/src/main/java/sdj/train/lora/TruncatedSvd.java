package sdj.train.lora;

import java.util.SplittableRandom;
import sdj.train.linalg.Svd;

/**
 * The best rank-r factorisation A ≈ L·R (L = U_r·diag(S_r) [m, r], R = V_rᵀ [r, n]) of a float64
 * matrix. Small matrices go to the exact Jacobi {@link Svd}; for big ones (SD v1's ff.net.0.proj is
 * [10240, 1280], where a full Jacobi SVD takes minutes) the top singular subspace is found first by
 * block power iteration with oversampling (Halko, Martinsson, Tropp 2011, alg. 4.4), and the exact SVD
 * is taken of the small projection QᵀA. With a gap in the spectrum this equals the exact truncation
 * to working precision; without one, its error ‖A − L·R‖ is within a hair of the optimal.
 */
final class TruncatedSvd {
    /** Matrices whose smaller side is at most this go to the exact SVD. */
    static final int EXACT_UP_TO = 256;
    private static final int OVERSAMPLING = 10;
    private static final int POWER_ITERATIONS = 12;
    private static final long SEED = 0x5DEECE66DL;

    /** L [m, r] row-major and R [r, n] row-major. */
    record Factors(double[] left, double[] right, int rank) {
    }

    private TruncatedSvd() {
    }

    static Factors of(double[] a, int m, int n, int rank) {
        return of(a, m, n, rank, EXACT_UP_TO);
    }

    static Factors of(double[] a, int m, int n, int rank, int exactUpTo) {
        int k = Math.min(rank + OVERSAMPLING, Math.min(m, n));
        if (Math.min(m, n) <= exactUpTo || k == Math.min(m, n)) {
            return truncate(Svd.of(a, m, n), null, m, n, rank);
        }
        // Q [m, k]: an orthonormal basis of the range of (A·Aᵀ)^q·A·Ω
        double[] q = orthonormalColumns(times(a, m, n, gaussian(n, k), k), m, k);
        for (int i = 0; i < POWER_ITERATIONS; i++) {
            double[] z = orthonormalColumns(transposeTimes(a, m, n, q, k), n, k); // Aᵀ·Q [n, k]
            q = orthonormalColumns(times(a, m, n, z, k), m, k); // A·Z [m, k]
        }
        double[] b = transposeTimes(q, m, k, a, n); // Qᵀ·A [k, n]
        return truncate(Svd.of(b, k, n), q, m, n, Math.min(rank, k));
    }

    /** L = (Q·)U_r·diag(S_r), R = V_rᵀ from an SVD of A, or of QᵀA when q is given. */
    private static Factors truncate(Svd svd, double[] q, int m, int n, int rank) {
        int r = Math.min(rank, svd.rank());
        int k = svd.rank();
        double[] u = svd.u();
        double[] s = svd.singularValues();
        double[] vt = svd.vt();
        int rows = svd.rows();
        double[] small = new double[rows * r];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < r; j++) {
                small[i * r + j] = u[i * k + j] * s[j];
            }
        }
        double[] left = q == null ? small : times(q, m, rows, small, r);
        double[] right = new double[r * n];
        System.arraycopy(vt, 0, right, 0, r * n);
        return new Factors(left, right, r);
    }

    /** X [rows, inner] · Y [inner, cols], row-major. */
    private static double[] times(double[] x, int rows, int inner, double[] y, int cols) {
        double[] out = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int p = 0; p < inner; p++) {
                double v = x[i * inner + p];
                if (v != 0) {
                    for (int j = 0; j < cols; j++) {
                        out[i * cols + j] += v * y[p * cols + j];
                    }
                }
            }
        }
        return out;
    }

    /** Xᵀ · Y for X [rows, xCols] and Y [rows, yCols]: [xCols, yCols]. */
    private static double[] transposeTimes(double[] x, int rows, int xCols, double[] y, int yCols) {
        double[] out = new double[xCols * yCols];
        for (int i = 0; i < rows; i++) {
            for (int p = 0; p < xCols; p++) {
                double v = x[i * xCols + p];
                if (v != 0) {
                    for (int j = 0; j < yCols; j++) {
                        out[p * yCols + j] += v * y[i * yCols + j];
                    }
                }
            }
        }
        return out;
    }

    /** The columns of X [rows, cols] made orthonormal by Gram–Schmidt, twice (for accuracy). */
    private static double[] orthonormalColumns(double[] x, int rows, int cols) {
        for (int pass = 0; pass < 2; pass++) {
            for (int c = 0; c < cols; c++) {
                for (int prev = 0; prev < c; prev++) {
                    double dot = 0;
                    for (int i = 0; i < rows; i++) {
                        dot += x[i * cols + c] * x[i * cols + prev];
                    }
                    for (int i = 0; i < rows; i++) {
                        x[i * cols + c] -= dot * x[i * cols + prev];
                    }
                }
                double norm = 0;
                for (int i = 0; i < rows; i++) {
                    norm += x[i * cols + c] * x[i * cols + c];
                }
                norm = Math.sqrt(norm);
                for (int i = 0; i < rows; i++) {
                    x[i * cols + c] = norm > 0 ? x[i * cols + c] / norm : 0;
                }
            }
        }
        return x;
    }

    private static double[] gaussian(int rows, int cols) {
        SplittableRandom random = new SplittableRandom(SEED);
        double[] g = new double[rows * cols];
        for (int i = 0; i < g.length; i++) {
            // Box–Muller; any seeded distribution with full-rank draws would do
            g[i] = Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
        }
        return g;
    }
}
