package sdj.sd.verify;

import java.util.Locale;

/**
 * One reference comparison. maxRelErr is the largest absolute error divided by the reference's
 * largest magnitude (a max-norm relative error: per-element ratios blow up near zero).
 */
public record Check(String name, double maxAbsErr, double maxRelErr, boolean pass) {
    public static Check compare(String name, float[] actual, float[] expected, Tolerance tol) {
        if (actual.length != expected.length) {
            return new Check(name + " (size " + actual.length + " vs " + expected.length + ")", Double.NaN, Double.NaN,
                    false);
        }
        double maxAbs = 0;
        double maxRef = 0;
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(err)) {
                err = Double.POSITIVE_INFINITY;
            }
            maxAbs = Math.max(maxAbs, err);
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        double rel = maxAbs / Math.max(maxRef, 1e-30);
        return new Check(name, maxAbs, rel, tol.accepts(maxAbs, maxRef));
    }

    public String line() {
        return String.format(Locale.ROOT, "%s %.3e %.3e %s", name, maxAbsErr, maxRelErr, pass ? "PASS" : "FAIL");
    }

    /** Forward: |a−b| ≤ abs·max(1, max|b|); gradients and samplers: |a−b| ≤ rel·max|b|. */
    public record Tolerance(double abs, double rel) {
        public static final Tolerance FORWARD = new Tolerance(1e-4, 0);
        public static final Tolerance GRADIENT = new Tolerance(0, 1e-3);
        public static final Tolerance SAMPLER = new Tolerance(0, 1e-3);

        boolean accepts(double maxAbs, double maxRef) {
            double bound = abs > 0 ? abs * Math.max(1, maxRef) : rel * maxRef;
            return maxAbs <= bound;
        }

        public Tolerance scaled(double factor) {
            return new Tolerance(abs * factor, rel * factor);
        }
    }
}
