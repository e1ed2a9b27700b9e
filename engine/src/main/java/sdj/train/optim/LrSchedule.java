package sdj.train.optim;

import java.util.Locale;

/**
 * diffusers' learning-rate schedules ({@code diffusers.optimization}, wrapped in torch's {@code LambdaLR}): the lr
 * of optimizer update k (k = 1, 2, …) is base·λ(k − 1), because LambdaLR applies λ(0) when it is built and λ(s)
 * after the s-th {@code scheduler.step()}, which follows update s. All arithmetic in double, as in Python.
 */
@FunctionalInterface
public interface LrSchedule {
    /** λ(s): the factor of the base lr after s scheduler steps. */
    double factor(long s);

    /** The learning rate of optimizer update k (1-based) for the given base lr. */
    default double lrAt(double baseLr, long k) {
        if (k < 1) {
            throw new IllegalArgumentException("optimizer updates are numbered from 1, got " + k);
        }
        return baseLr * factor(k - 1);
    }

    /** {@code get_constant_schedule}: λ = 1. */
    static LrSchedule constant() {
        return s -> 1.0;
    }

    /** {@code get_constant_schedule_with_warmup}: s/W during the warmup, then 1. */
    static LrSchedule constantWithWarmup(long warmup) {
        return s -> s < warmup ? warmupFactor(s, warmup) : 1.0;
    }

    /** {@code get_linear_schedule_with_warmup}: warmup, then max(0, (N − s)/(N − W)). */
    static LrSchedule linear(long warmup, long total) {
        return s -> s < warmup ? warmupFactor(s, warmup)
                : Math.max(0.0, (double) (total - s) / (double) Math.max(1, total - warmup));
    }

    /** {@code get_cosine_schedule_with_warmup}: warmup, then max(0, ½(1 + cos(π·2·cycles·p))), p = (s − W)/(N − W). */
    static LrSchedule cosine(long warmup, long total, double cycles) {
        return s -> s < warmup ? warmupFactor(s, warmup)
                : Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * cycles * 2.0 * progress(s, warmup, total))));
    }

    /** {@code get_cosine_with_hard_restarts_schedule_with_warmup}: p ≥ 1 → 0, else ½(1 + cos(π·((cycles·p) mod 1))). */
    static LrSchedule cosineWithRestarts(long warmup, long total, double cycles) {
        return s -> {
            if (s < warmup) {
                return warmupFactor(s, warmup);
            }
            double p = progress(s, warmup, total);
            return p >= 1.0 ? 0.0 : Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * ((cycles * p) % 1.0))));
        };
    }

    /**
     * {@code get_polynomial_decay_schedule_with_warmup}: warmup; past N, lrEnd/lr0; else
     * ((lr0 − lrEnd)·(1 − (s − W)/(N − W))^power + lrEnd)/lr0, with lr0 the optimizer's base lr.
     */
    static LrSchedule polynomial(long warmup, long total, double baseLr, double lrEnd, double power) {
        if (!(baseLr > lrEnd)) {
            throw new IllegalArgumentException("a polynomial schedule needs lr_end (" + lrEnd
                    + ") smaller than the base lr (" + baseLr + ")");
        }
        return s -> {
            if (s < warmup) {
                return warmupFactor(s, warmup);
            }
            if (s > total) {
                return lrEnd / baseLr;
            }
            double remaining = 1 - (double) (s - warmup) / (double) (total - warmup);
            return ((baseLr - lrEnd) * Math.pow(remaining, power) + lrEnd) / baseLr;
        };
    }

    /**
     * diffusers' {@code get_scheduler(name, …)}: numCycles reaches only cosine_with_restarts and power only
     * polynomial (cosine always makes half a cycle; polynomial's lr_end is not passed, so callers give 1e-7).
     */
    static LrSchedule byName(String name, long warmup, long total, double baseLr, int numCycles, double power,
            double lrEnd) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "constant" -> constant();
            case "constant_with_warmup" -> constantWithWarmup(warmup);
            case "linear" -> linear(warmup, total);
            case "cosine" -> cosine(warmup, total, 0.5);
            case "cosine_with_restarts" -> cosineWithRestarts(warmup, total, numCycles);
            case "polynomial" -> polynomial(warmup, total, baseLr, lrEnd, power);
            default -> throw new IllegalArgumentException("unknown lr scheduler '" + name + "'; use constant,"
                    + " constant_with_warmup, linear, cosine, cosine_with_restarts or polynomial");
        };
    }

    /** diffusers' polynomial default lr_end. */
    double POLYNOMIAL_LR_END = 1e-7;

    private static double warmupFactor(long s, long warmup) {
        return (double) s / (double) Math.max(1, warmup);
    }

    private static double progress(long s, long warmup, long total) {
        return (double) (s - warmup) / (double) Math.max(1, total - warmup);
    }
}
