package sdj.sd.sample;

import sdj.random.TorchGenerator;

/** k-diffusion {@code sample_euler} (no churn): x ← x + (σ_{i+1} − σ_i)·(x − D(x, σ_i))/σ_i. First order. */
public final class EulerSampler extends KDiffusionSampler {
    public EulerSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "euler";
    }

    @Override
    protected Run newRun(float[] sigmas, CompVisDenoiser model, int[] shape, TorchGenerator rng) {
        return (x, i) -> {
            float[] denoised = model.denoise(x, sigmas[i]);
            float[] d = CompVisDenoiser.toD(x, denoised, sigmas[i]);
            return step(x, d, sigmas[i + 1] - sigmas[i]);
        };
    }

    /** One Euler step x + d·dt (also the predictor of Heun's method). */
    static float[] step(float[] x, float[] d, float dt) {
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = x[k] + d[k] * dt;
        }
        return out;
    }
}
