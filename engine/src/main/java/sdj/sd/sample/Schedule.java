package sdj.sd.sample;

import java.util.Arrays;

/**
 * The diffusion noise schedule of a discrete-time model: ᾱ_t (alphas_cumprod) for t = 0..T-1 and
 * the matching noise levels σ_t = √((1−ᾱ_t)/ᾱ_t) of the variance-exploding view k-diffusion uses.
 *
 * <p>ᾱ is held as fp32, exactly the {@code alphas_cumprod} buffer LDM registers (and stores in
 * checkpoints): betas are built in float64, the cumulative product taken in float64, then rounded.
 * σ and log σ are fp32 arithmetic on that buffer, like k-diffusion's {@code CompVisDenoiser}.
 */
public final class Schedule {
    /** SD v1 training settings: linear_start, linear_end, timesteps. */
    public static final double SD_V1_LINEAR_START = 0.00085;
    public static final double SD_V1_LINEAR_END = 0.012;
    public static final int SD_V1_TIMESTEPS = 1000;

    private final float[] alphasCumprod;
    private final float[] sigmas;
    private final float[] logSigmas;

    /** From a checkpoint's {@code alphas_cumprod} buffer (fp32, one value per training timestep). */
    public Schedule(float[] alphasCumprod) {
        if (alphasCumprod.length < 2) {
            throw new IllegalArgumentException("a schedule needs at least 2 timesteps, got " + alphasCumprod.length);
        }
        this.alphasCumprod = alphasCumprod.clone();
        this.sigmas = new float[alphasCumprod.length];
        this.logSigmas = new float[alphasCumprod.length];
        for (int t = 0; t < alphasCumprod.length; t++) {
            float a = alphasCumprod[t];
            if (!(a > 0f && a < 1f)) {
                throw new IllegalArgumentException("alphas_cumprod[" + t + "] = " + a + " is outside (0, 1)");
            }
            if (t > 0 && a > alphasCumprod[t - 1]) {
                throw new IllegalArgumentException("alphas_cumprod must not increase (t = " + t + ")");
            }
            sigmas[t] = (float) Math.sqrt((1f - a) / a);
            logSigmas[t] = (float) Math.log(sigmas[t]);
        }
    }

    /** SD v1's "scaled linear" schedule: betas = linspace(√start, √end, T)² in float64, as LDM makes it. */
    public static Schedule scaledLinear(double linearStart, double linearEnd, int timesteps) {
        double[] betas = scaledLinearBetas(linearStart, linearEnd, timesteps);
        float[] ac = new float[timesteps];
        double prod = 1.0;
        for (int t = 0; t < timesteps; t++) {
            prod *= 1.0 - betas[t];
            ac[t] = (float) prod;
        }
        return new Schedule(ac);
    }

    public static Schedule sdV1() {
        return scaledLinear(SD_V1_LINEAR_START, SD_V1_LINEAR_END, SD_V1_TIMESTEPS);
    }

    /** LDM {@code make_beta_schedule("linear")}: {@code torch.linspace(√s, √e, n, dtype=float64) ** 2}. */
    public static double[] scaledLinearBetas(double linearStart, double linearEnd, int timesteps) {
        double[] b = TorchLinspace.float64(Math.sqrt(linearStart), Math.sqrt(linearEnd), timesteps);
        for (int i = 0; i < b.length; i++) {
            b[i] = b[i] * b[i];
        }
        return b;
    }

    /** T, the number of training timesteps. */
    public int timesteps() {
        return alphasCumprod.length;
    }

    public float alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** σ_t for integer t. */
    public float sigma(int t) {
        return sigmas[t];
    }

    public float sigmaMin() {
        return sigmas[0];
    }

    public float sigmaMax() {
        return sigmas[sigmas.length - 1];
    }

    /**
     * k-diffusion {@code DiscreteSchedule.t_to_sigma}: σ at a fractional timestep by linear
     * interpolation of log σ between the neighbouring integer steps.
     */
    public float tToSigma(float t) {
        int low = (int) Math.floor(t);
        int high = (int) Math.ceil(t);
        float w = t - low;
        float logSigma = (1f - w) * logSigmas[low] + w * logSigmas[high];
        return (float) Math.exp(logSigma);
    }

    /**
     * k-diffusion {@code DiscreteSchedule.sigma_to_t} (not quantized): the fractional timestep whose
     * interpolated log σ equals log σ; clamps to [0, T-1] outside the trained range.
     */
    public float sigmaToT(float sigma) {
        float logSigma = (float) Math.log(sigma);
        // low = the last index whose log σ is <= log σ (log σ increases with t), kept below T-1.
        int low = 0;
        for (int i = 0; i < logSigmas.length; i++) {
            if (logSigma - logSigmas[i] >= 0f) {
                low = i;
            }
        }
        low = Math.min(low, logSigmas.length - 2);
        int high = low + 1;
        float lo = logSigmas[low];
        float hi = logSigmas[high];
        float w = (lo - logSigma) / (lo - hi);
        w = Math.clamp(w, 0f, 1f);
        return (1f - w) * low + w * high;
    }

    /**
     * k-diffusion {@code DiscreteSchedule.get_sigmas(n)}: n noise levels at t = linspace(T-1, 0, n),
     * followed by a final 0 (n + 1 values, decreasing).
     */
    public float[] discreteSigmas(int n) {
        requireSteps(n);
        float[] t = TorchLinspace.float32(timesteps() - 1, 0f, n);
        float[] out = new float[n + 1];
        for (int i = 0; i < n; i++) {
            out[i] = tToSigma(t[i]);
        }
        return out;
    }

    /** Karras et al. (2022) noise levels with ρ = 7 between this schedule's σ_max and σ_min. */
    public float[] karrasSigmas(int n) {
        return karrasSigmas(n, sigmaMin(), sigmaMax(), 7.0);
    }

    /**
     * k-diffusion {@code get_sigmas_karras}: σ_i = (σ_max^(1/ρ) + i/(n-1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ,
     * followed by a final 0. Evaluated in double, stored as fp32.
     */
    public static float[] karrasSigmas(int n, double sigmaMin, double sigmaMax, double rho) {
        requireSteps(n);
        double minInvRho = Math.pow(sigmaMin, 1.0 / rho);
        double maxInvRho = Math.pow(sigmaMax, 1.0 / rho);
        double[] ramp = TorchLinspace.float64(0.0, 1.0, n);
        float[] out = new float[n + 1];
        for (int i = 0; i < n; i++) {
            out[i] = (float) Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        }
        return out;
    }

    private static void requireSteps(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("need at least 1 sampling step, got " + n);
        }
    }

    @Override
    public String toString() {
        return "Schedule[T=" + timesteps() + ", sigma " + sigmaMin() + ".." + sigmaMax() + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Schedule s && Arrays.equals(alphasCumprod, s.alphasCumprod);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(alphasCumprod);
    }
}
