package sdj.train.linalg;

/**
 * LU factorisation with partial pivoting (PA = LU) of a square float64 matrix, the LAPACK dgetrf/dgetrs method:
 * solves A·X = B for several right-hand sides, inverts A and estimates its 1-norm condition number
 * ‖A‖₁·‖A⁻¹‖₁. Used by the Custom Diffusion merge, whose normal matrix is badly conditioned, so everything
 * stays in double.
 */
public final class LinearSolve {
    private final int n;
    private final double[] lu; // row-major, L below the diagonal (unit diagonal implied), U on and above
    private final int[] pivot; // row i of PA is row pivot[i] of A
    private final double norm1;

    private LinearSolve(int n, double[] lu, int[] pivot, double norm1) {
        this.n = n;
        this.lu = lu;
        this.pivot = pivot;
        this.norm1 = norm1;
    }

    /**
     * Factorises the row-major n×n matrix {@code a} (not modified). A zero pivot (exactly singular matrix) is an
     * ArithmeticException naming {@code what}.
     */
    public static LinearSolve factor(double[] a, int n, String what) {
        if (a.length != (long) n * n) {
            throw new IllegalArgumentException(what + ": " + a.length + " values for a " + n + "×" + n + " matrix");
        }
        double[] lu = a.clone();
        int[] pivot = new int[n];
        for (int i = 0; i < n; i++) {
            pivot[i] = i;
        }
        for (int k = 0; k < n; k++) {
            int p = k;
            double best = Math.abs(lu[k * n + k]);
            for (int i = k + 1; i < n; i++) {
                double v = Math.abs(lu[i * n + k]);
                if (v > best) {
                    best = v;
                    p = i;
                }
            }
            if (best == 0 || Double.isNaN(best)) {
                throw new ArithmeticException(what + " is singular (no pivot in column " + k + " of " + n
                        + "); it cannot be solved");
            }
            if (p != k) {
                swapRows(lu, n, p, k);
                int t = pivot[p];
                pivot[p] = pivot[k];
                pivot[k] = t;
            }
            double diag = lu[k * n + k];
            for (int i = k + 1; i < n; i++) {
                double f = lu[i * n + k] / diag;
                lu[i * n + k] = f;
                if (f != 0) {
                    for (int j = k + 1; j < n; j++) {
                        lu[i * n + j] -= f * lu[k * n + j];
                    }
                }
            }
        }
        return new LinearSolve(n, lu, pivot, norm1(a, n));
    }

    public int size() {
        return n;
    }

    /** X with A·X = B for B n×cols row-major; returns X n×cols row-major. */
    public double[] solve(double[] b, int cols) {
        if (b.length != (long) n * cols) {
            throw new IllegalArgumentException("right-hand side of " + b.length + " values is not " + n + "×" + cols);
        }
        double[] x = new double[b.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(b, pivot[i] * cols, x, i * cols, cols);
        }
        for (int i = 0; i < n; i++) { // forward: L·Y = P·B
            for (int k = 0; k < i; k++) {
                double f = lu[i * n + k];
                if (f != 0) {
                    for (int j = 0; j < cols; j++) {
                        x[i * cols + j] -= f * x[k * cols + j];
                    }
                }
            }
        }
        for (int i = n - 1; i >= 0; i--) { // backward: U·X = Y
            for (int k = i + 1; k < n; k++) {
                double f = lu[i * n + k];
                if (f != 0) {
                    for (int j = 0; j < cols; j++) {
                        x[i * cols + j] -= f * x[k * cols + j];
                    }
                }
            }
            double d = lu[i * n + i];
            for (int j = 0; j < cols; j++) {
                x[i * cols + j] /= d;
            }
        }
        return x;
    }

    /** A⁻¹, row-major. */
    public double[] inverse() {
        double[] identity = new double[n * n];
        for (int i = 0; i < n; i++) {
            identity[i * n + i] = 1;
        }
        return solve(identity, n);
    }

    /** ‖A‖₁·‖A⁻¹‖₁ (maximum absolute column sums), from the explicit inverse. */
    public double conditionNumber1() {
        return norm1 * norm1(inverse(), n);
    }

    private static double norm1(double[] a, int n) {
        double max = 0;
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.abs(a[i * n + j]);
            }
            max = Math.max(max, sum);
        }
        return max;
    }

    private static void swapRows(double[] a, int n, int p, int k) {
        for (int j = 0; j < n; j++) {
            double t = a[p * n + j];
            a[p * n + j] = a[k * n + j];
            a[k * n + j] = t;
        }
    }
}
