package sdj.sd.sample;

/**
 * k-diffusion's {@code CompVisDenoiser}: turns an ε-predicting VP model into a denoiser D(x, σ) of
 * the variance-exploding view x = x0 + σ·ε. The model sees the input scaled by c_in = 1/√(σ²+1)
 * (back to the VP latent) at the fractional timestep t(σ); D = x − σ·ε. All fp32, like k-diffusion.
 */
final class CompVisDenoiser {
    private final EpsModel model;
    private final Schedule schedule;
    private final int[] shape;

    CompVisDenoiser(EpsModel model, Schedule schedule, int[] shape) {
        this.model = model;
        this.schedule = schedule;
        this.shape = shape;
    }

    float[] denoise(float[] x, float sigma) {
        float cIn = 1f / (float) Math.sqrt(sigma * sigma + 1f);
        float[] scaled = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            scaled[k] = x[k] * cIn;
        }
        float[] eps = SamplerSupport.eps(model, scaled, shape, schedule.sigmaToT(sigma));
        float cOut = -sigma;
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = x[k] + eps[k] * cOut;
        }
        return out;
    }

    /** k-diffusion {@code to_d}: the ODE derivative dx/dσ = (x − D)/σ. */
    static float[] toD(float[] x, float[] denoised, float sigma) {
        float[] d = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            d[k] = (x[k] - denoised[k]) / sigma;
        }
        return d;
    }
}
