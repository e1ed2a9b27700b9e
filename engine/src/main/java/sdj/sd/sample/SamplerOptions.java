package sdj.sd.sample;

/**
 * Settings shared by the samplers.
 *
 * @param schedule the model's noise schedule
 * @param eta DDIM η (0 = deterministic) or the ancestral strength of euler_a; NaN = the sampler's default
 * @param karras use Karras σ spacing (k-diffusion samplers only)
 * @param hook called before every step (inpainting); {@link StepHook#NONE} for none
 */
public record SamplerOptions(Schedule schedule, double eta, boolean karras, StepHook hook) {
    public SamplerOptions {
        if (schedule == null) {
            throw new IllegalArgumentException("a sampler needs a schedule");
        }
        if (hook == null) {
            hook = StepHook.NONE;
        }
    }

    /** SD v1 schedule, sampler-default η, discrete σ spacing, no hook. */
    public static SamplerOptions defaults() {
        return new SamplerOptions(Schedule.sdV1(), Double.NaN, false, StepHook.NONE);
    }

    public SamplerOptions withSchedule(Schedule s) {
        return new SamplerOptions(s, eta, karras, hook);
    }

    public SamplerOptions withEta(double e) {
        return new SamplerOptions(schedule, e, karras, hook);
    }

    public SamplerOptions withKarras(boolean k) {
        return new SamplerOptions(schedule, eta, k, hook);
    }

    public SamplerOptions withHook(StepHook h) {
        return new SamplerOptions(schedule, eta, karras, h);
    }

    double etaOr(double fallback) {
        return Double.isNaN(eta) ? fallback : eta;
    }
}
