package sdj.train;

import java.util.Arrays;
import java.util.Map;
import sdj.sd.sample.Schedule;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * The forward (noising) process of training, as LDM's {@code DDPM.register_schedule} makes it: ᾱ in
 * float64 from the "linear" betas, per-sample coefficients rounded to float32 once, and
 * q_sample x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε in float32. Kept apart from the samplers' float32 ᾱ table
 * ({@link Schedule}) because training reads ᾱ and the SNR in float64.
 */
public final class NoiseSchedule {
    private final double[] alphasCumprod;

    private NoiseSchedule(double[] alphasCumprod) {
        this.alphasCumprod = alphasCumprod;
    }

    /** betas = linspace(√start, √end, T)², ᾱ = cumprod(1 − β), all float64. */
    public static NoiseSchedule ldmLinear(double linearStart, double linearEnd, int timesteps) {
        double[] betas = Schedule.scaledLinearBetas(linearStart, linearEnd, timesteps);
        double[] ac = new double[timesteps];
        double prod = 1.0;
        for (int t = 0; t < timesteps; t++) {
            prod *= 1.0 - betas[t];
            ac[t] = prod;
        }
        return new NoiseSchedule(ac);
    }

    /** SD v1: start 0.00085, end 0.012, 1000 steps. */
    public static NoiseSchedule sdV1() {
        return ldmLinear(Schedule.SD_V1_LINEAR_START, Schedule.SD_V1_LINEAR_END, Schedule.SD_V1_TIMESTEPS);
    }

    /**
     * From a JSON object with {@code linear_start}, {@code linear_end}, {@code num_timesteps} (e.g. the
     * {@code schedule} entry of a training reference's hyperparameters); {@code origin} names it in errors.
     */
    public static NoiseSchedule fromJson(Map<String, Object> schedule, String origin) {
        Object kind = schedule.get("kind");
        if (kind != null && !String.valueOf(kind).startsWith("LDM linear")) {
            throw new IllegalArgumentException(origin + ": schedule kind '" + kind
                    + "' is not supported; only the LDM \"linear\" (scaled linear) schedule of SD v1 is");
        }
        return ldmLinear(JsonValues.number(schedule, "linear_start", origin),
                JsonValues.number(schedule, "linear_end", origin),
                (int) JsonValues.number(schedule, "num_timesteps", origin));
    }

    public int timesteps() {
        return alphasCumprod.length;
    }

    /** ᾱ_t in float64. */
    public double alphaCumprod(long t) {
        if (t < 0 || t >= alphasCumprod.length) {
            throw new IllegalArgumentException("timestep " + t + " is outside the schedule's [0, " + alphasCumprod.length
                    + "); training timesteps are integers below the number of training steps");
        }
        return alphasCumprod[(int) t];
    }

    /** float32(√ᾱ_t) per sample. */
    public float[] sqrtAlphasCumprod(long[] t) {
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = (float) Math.sqrt(alphaCumprod(t[i]));
        }
        return out;
    }

    /** float32(√(1 − ᾱ_t)) per sample. */
    public float[] sqrtOneMinusAlphasCumprod(long[] t) {
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = (float) Math.sqrt(1.0 - alphaCumprod(t[i]));
        }
        return out;
    }

    /** Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t), float64 (diffusers {@code compute_snr}). */
    public double snr(long t) {
        double ac = alphaCumprod(t);
        return ac / (1.0 - ac);
    }

    /**
     * Min-SNR-γ loss weights for ε-prediction, min(snr, γ)/snr per sample, in float64 then float32
     * (Hang et al. 2023; diffusers {@code --snr_gamma}, kohya {@code apply_snr_weight}).
     */
    public float[] minSnrWeights(long[] t, double gamma) {
        if (!(gamma > 0)) {
            throw new IllegalArgumentException("the min-SNR gamma must be positive, got " + gamma + " (5.0 is the usual value)");
        }
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            double snr = snr(t[i]);
            out[i] = (float) (Math.min(snr, gamma) / snr);
        }
        return out;
    }

    /** q_sample: x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·noise per sample; x0 and noise are [B, ...] with B = t.length. */
    public Tensor addNoise(Tensor x0, Tensor noise, long[] t) {
        if (x0.size(0) != t.length || !Arrays.equals(x0.shape(), noise.shape())) {
            throw new IllegalArgumentException("q_sample needs latents and noise of the same shape [B, ...] and B timesteps; got "
                    + Shape.str(x0.shape()) + ", " + Shape.str(noise.shape()) + " and " + t.length
                    + " timesteps");
        }
        return x0.mul(perSample(sqrtAlphasCumprod(t), x0)).add(noise.mul(perSample(sqrtOneMinusAlphasCumprod(t), x0)));
    }

    /** Per-sample scalars as [B, 1, …, 1] on x's device, to broadcast over the other dimensions. */
    static Tensor perSample(float[] values, Tensor like) {
        int[] shape = new int[like.dim()];
        Arrays.fill(shape, 1);
        shape[0] = values.length;
        return Tensor.of(values.clone(), shape).to(like.device(), like.dtype());
    }
}
