package sdj.train.run;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** Axis ticks at round values (1, 2 or 5 × a power of ten), about six per axis, and their labels. */
final class Ticks {
    private static final int TARGET = 6;

    private Ticks() {
    }

    /** The multiples of a round spacing that lie in [lo, hi]. */
    static List<Double> of(double lo, double hi) {
        double spacing = spacing(hi - lo);
        List<Double> out = new ArrayList<>();
        for (long k = (long) Math.ceil(lo / spacing - 1e-9); k * spacing <= hi + 1e-9 * spacing; k++) {
            out.add(k * spacing);
        }
        return out;
    }

    static double spacing(double range) {
        double raw = range / TARGET;
        double power = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / power;
        return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
    }

    /** A tick value with as many decimals as the spacing needs, and no float noise (0.30000000000000004). */
    static String label(double value, double range) {
        double spacing = spacing(range);
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(spacing) + 1e-9));
        return new BigDecimal(value).setScale(decimals, java.math.RoundingMode.HALF_EVEN).toPlainString();
    }
}
