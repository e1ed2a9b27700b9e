package sdj.train;

import sdj.sd.verify.Check;

/**
 * The sd-tiny-train README's rule for weights after an update ("Tolerances"): the Adam-fragile elements (a
 * reference update-1 gradient tiny compared with its tensor's, where AdamW's lr·g/(|g| + ε) follows rounding)
 * within an absolute bound (3·lr), every other element within {@code rel}·max|b| of the tensor. The check line
 * reports the error over all elements; only the verdict splits them.
 */
public final class FragileWeightCheck {
    private FragileWeightCheck() {
    }

    /**
     * @param fragile flat row-major indices of the fragile elements (may be empty)
     * @param allFragile every element is fragile (a tensor whose exact gradient is zero, {@link NoiseTensors})
     * @param fragileBound the absolute bound of fragile elements (3·lr)
     * @param rel the bound of the others, relative to the tensor's largest reference magnitude
     */
    public static Check compare(String name, float[] actual, float[] expected, long[] fragile, boolean allFragile,
            double fragileBound, double rel) {
        if (actual.length != expected.length) {
            return new Check(name + " (size " + actual.length + " vs " + expected.length + ")", Double.NaN, Double.NaN,
                    false);
        }
        boolean[] isFragile = new boolean[actual.length];
        for (long i : fragile) {
            if (i < 0 || i >= actual.length) {
                throw new IllegalArgumentException("fragile index " + i + " of '" + name + "' is outside its "
                        + actual.length + " elements; the reference does not belong to this model");
            }
            isFragile[(int) i] = true;
        }
        double maxRef = 0;
        for (float v : expected) {
            maxRef = Math.max(maxRef, Math.abs(v));
        }
        double maxAbs = 0;
        boolean pass = true;
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(err)) {
                err = Double.POSITIVE_INFINITY;
            }
            maxAbs = Math.max(maxAbs, err);
            double bound = allFragile || isFragile[i] ? fragileBound : rel * maxRef;
            pass &= err <= bound;
        }
        return new Check(name, maxAbs, maxAbs / Math.max(maxRef, 1e-30), pass);
    }
}
