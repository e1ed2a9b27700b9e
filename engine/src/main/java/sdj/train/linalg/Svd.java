package sdj.train.linalg;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Thin singular value decomposition A = U·diag(S)·Vᵀ of a dense float64 matrix by one-sided (Hestenes) Jacobi:
 * plane rotations orthogonalise the columns of A (or of Aᵀ when A is wide) until every pair is orthogonal to
 * working precision; the column norms are then the singular values. It is slow for big matrices (O(n²·m) per
 * sweep) but simple and accurate to a few ulps in every singular value, which is what the Custom Diffusion
 * compression needs for [C,768] deltas (C ≤ 1280). With k = min(m, n): U is m×k, S has k values in descending
 * order, Vᵀ is k×n, all row-major.
 */
public final class Svd {
    private static final int MAX_SWEEPS = 60;
    private static final double EPS = 2.220446049250313e-16;
    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;

    private final int rows;
    private final int cols;
    private final double[] u;
    private final double[] s;
    private final double[] vt;

    private Svd(int rows, int cols, double[] u, double[] s, double[] vt) {
        this.rows = rows;
        this.cols = cols;
        this.u = u;
        this.s = s;
        this.vt = vt;
    }

    /** Decomposes the row-major {@code rows}×{@code cols} matrix {@code a} (not modified). */
    public static Svd of(double[] a, int rows, int cols) {
        if (a.length != (long) rows * cols || rows < 1 || cols < 1) {
            throw new IllegalArgumentException("Svd: " + a.length + " values for a " + rows + "×" + cols + " matrix");
        }
        if (rows >= cols) {
            Columns c = Columns.orthogonalise(columnsOf(a, rows, cols, false), rows);
            return new Svd(rows, cols, c.leftRowMajor(rows), c.sigma, c.rightTransposed());
        }
        // A wide: decompose Aᵀ = U'·S·V'ᵀ, so A = V'·S·U'ᵀ
        Columns c = Columns.orthogonalise(columnsOf(a, rows, cols, true), cols);
        return new Svd(rows, cols, c.rightRowMajor(), c.sigma, c.leftTransposed(cols));
    }

    /** Number of rows m of A. */
    public int rows() {
        return rows;
    }

    /** Number of columns n of A. */
    public int cols() {
        return cols;
    }

    /** k = min(m, n): how many singular values there are. */
    public int rank() {
        return s.length;
    }

    /** The singular values, largest first (a copy). */
    public double[] singularValues() {
        return s.clone();
    }

    /** U, m×k row-major (a copy). Columns of zero singular values are zero. */
    public double[] u() {
        return u.clone();
    }

    /** Vᵀ, k×n row-major (a copy). */
    public double[] vt() {
        return vt.clone();
    }

    /** The columns of the input as arrays: A's columns, or Aᵀ's columns (A's rows) when {@code transpose}. */
    private static double[][] columnsOf(double[] a, int rows, int cols, boolean transpose) {
        int count = transpose ? rows : cols;
        int length = transpose ? cols : rows;
        double[][] c = new double[count][length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                if (transpose) {
                    c[i][j] = a[i * cols + j];
                } else {
                    c[j][i] = a[i * cols + j];
                }
            }
        }
        return c;
    }

    /**
     * Jacobi state for a tall matrix B (length×count, length ≥ count) kept as columns: after orthogonalisation
     * B·V has orthogonal columns b_j = σ_j·u_j.
     */
    private static final class Columns {
        final double[][] left; // unit columns u_j, sorted
        final double[][] right; // columns v_j of V, sorted
        final double[] sigma;

        private Columns(double[][] left, double[][] right, double[] sigma) {
            this.left = left;
            this.right = right;
            this.sigma = sigma;
        }

        static Columns orthogonalise(double[][] b, int length) {
            int n = b.length;
            double[][] v = new double[n][n];
            for (int j = 0; j < n; j++) {
                v[j][j] = 1;
            }
            double[] norm2 = new double[n];
            for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
                // exact norms each sweep; within a sweep they follow the rotations (‖b_p‖² − t·γ, ‖b_q‖² + t·γ)
                for (int j = 0; j < n; j++) {
                    norm2[j] = dot(b[j], b[j]);
                }
                boolean rotated = false;
                for (int p = 0; p < n - 1; p++) {
                    for (int q = p + 1; q < n; q++) {
                        double gamma = dot(b[p], b[q]);
                        double alpha = norm2[p];
                        double beta = norm2[q];
                        if (Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta) || gamma == 0) {
                            continue;
                        }
                        rotated = true;
                        double zeta = (beta - alpha) / (2 * gamma);
                        double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                        if (zeta == 0) {
                            t = 1;
                        }
                        double c = 1 / Math.sqrt(1 + t * t);
                        double s = c * t;
                        rotate(b[p], b[q], c, s);
                        rotate(v[p], v[q], c, s);
                        norm2[p] = Math.max(0, alpha - t * gamma);
                        norm2[q] = beta + t * gamma;
                    }
                }
                if (!rotated) {
                    return sorted(b, v, length);
                }
            }
            throw new ArithmeticException("Svd: Jacobi rotations did not converge in " + MAX_SWEEPS
                    + " sweeps (the matrix holds NaN or infinite values?)");
        }

        private static Columns sorted(double[][] b, double[][] v, int length) {
            int n = b.length;
            double[] norms = new double[n];
            for (int j = 0; j < n; j++) {
                norms[j] = Math.sqrt(dot(b[j], b[j]));
            }
            Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble((Integer j) -> norms[j]).reversed());
            double[][] left = new double[n][length];
            double[][] right = new double[n][];
            double[] sigma = new double[n];
            for (int k = 0; k < n; k++) {
                int j = order[k];
                sigma[k] = norms[j];
                right[k] = v[j];
                if (norms[j] > 0) {
                    for (int i = 0; i < length; i++) {
                        left[k][i] = b[j][i] / norms[j];
                    }
                }
            }
            return new Columns(left, right, sigma);
        }

        /** The unit columns as a row-major length×k matrix. */
        double[] leftRowMajor(int length) {
            return rowMajor(left, length);
        }

        /** The unit columns transposed: k×length row-major. */
        double[] leftTransposed(int length) {
            return concat(left, length);
        }

        /** V as a row-major n×k matrix. */
        double[] rightRowMajor() {
            return rowMajor(right, right.length);
        }

        /** Vᵀ: k×n row-major. */
        double[] rightTransposed() {
            return concat(right, right.length);
        }

        private static double[] rowMajor(double[][] columns, int length) {
            int k = columns.length;
            double[] out = new double[length * k];
            for (int j = 0; j < k; j++) {
                for (int i = 0; i < length; i++) {
                    out[i * k + j] = columns[j][i];
                }
            }
            return out;
        }

        private static double[] concat(double[][] columns, int length) {
            double[] out = new double[columns.length * length];
            for (int j = 0; j < columns.length; j++) {
                System.arraycopy(columns[j], 0, out, j * length, length);
            }
            return out;
        }
    }

    /** Σ a_i·b_i, in SIMD lanes (the Jacobi sweeps spend their time here and in {@link #rotate}). */
    private static double dot(double[] a, double[] b) {
        int i = 0;
        int bound = SPECIES.loopBound(a.length);
        DoubleVector acc = DoubleVector.zero(SPECIES);
        for (; i < bound; i += SPECIES.length()) {
            acc = DoubleVector.fromArray(SPECIES, a, i).fma(DoubleVector.fromArray(SPECIES, b, i), acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** (x, y) ← (c·x − s·y, s·x + c·y). */
    private static void rotate(double[] x, double[] y, double c, double s) {
        int i = 0;
        int bound = SPECIES.loopBound(x.length);
        for (; i < bound; i += SPECIES.length()) {
            DoubleVector xv = DoubleVector.fromArray(SPECIES, x, i);
            DoubleVector yv = DoubleVector.fromArray(SPECIES, y, i);
            xv.mul(c).sub(yv.mul(s)).intoArray(x, i);
            xv.mul(s).add(yv.mul(c)).intoArray(y, i);
        }
        for (; i < x.length; i++) {
            double xi = x[i];
            double yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }
}
