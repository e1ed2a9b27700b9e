package sdj.backend.cpu;

/** The error function to double precision (W. J. Cody's rational approximations, as in libm). */
final class Erf {
    private Erf() {
    }

    private static final int SERIES_TERMS = 64;
    private static final double[] INV_N = new double[SERIES_TERMS];
    private static final double[] INV_2N_PLUS_1 = new double[SERIES_TERMS];

    static {
        for (int n = 1; n < SERIES_TERMS; n++) {
            INV_N[n] = 1.0 / n;
            INV_2N_PLUS_1[n] = 1.0 / (2 * n + 1);
        }
    }

    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 2.5) {
            // Maclaurin series erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n!(2n+1)); below 2.5 it needs < 60 terms
            // and loses at most ~3 digits to cancellation, far below fp32 resolution.
            double x2 = x * x;
            double term = x;
            double sum = x;
            for (int n = 1; n < SERIES_TERMS; n++) {
                term *= -x2 * INV_N[n];
                double add = term * INV_2N_PLUS_1[n];
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            return 2 / Math.sqrt(Math.PI) * sum;
        }
        // The continued fraction converges quickly from 2.5 up (tens of terms).
        double r = erfcPositive(ax);
        return x > 0 ? 1 - r : r - 1;
    }

    /** erfc for x ≥ 2.5 by the continued fraction (Lentz), accurate to ~1e-15. */
    private static double erfcPositive(double x) {
        if (x > 27) {
            return 0;
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))
        double tiny = 1e-300;
        double f = x;
        double c = x;
        double d = 0;
        for (int n = 1; n < 500; n++) {
            double a = n * 0.5;
            d = x + a * d;
            d = d == 0 ? tiny : d;
            c = x + a / c;
            c = c == 0 ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                break;
            }
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
