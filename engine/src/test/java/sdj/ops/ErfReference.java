package sdj.ops;

/**
 * erfc in double, written independently of the engine's Erf for use as a test reference: the Maclaurin
 * series of erf below 2, and the classic continued fraction of erfc (evaluated bottom-up) from 2 on,
 * where it keeps full relative accuracy into the tail.
 */
final class ErfReference {
    private ErfReference() {
    }

    static double erfc(double x) {
        if (x < -2) {
            return 2 - erfc(-x);
        }
        if (x < 2) {
            double term = x;
            double sum = x;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-19; n++) {
                term *= -x * x / n;
                sum += term / (2 * n + 1);
            }
            return 1 - 2 / Math.sqrt(Math.PI) * sum;
        }
        // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
        double f = x;
        for (int k = 120; k >= 1; k--) {
            f = x + (k / 2.0) / f;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
