package sdj.sd.sample;

import sdj.random.TorchGenerator;

/**
 * k-diffusion {@code sample_heun} (no churn): Euler predictor then trapezoidal corrector with a
 * second model call at σ_{i+1}; the final step to σ = 0 is plain Euler. Second order.
 */
public final class HeunSampler extends KDiffusionSampler {
    public HeunSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "heun";
    }

    @Override
    protected Run newRun(float[] sigmas, CompVisDenoiser model, int[] shape, TorchGenerator rng) {
        return (x, i) -> {
            float[] denoised = model.denoise(x, sigmas[i]);
            float[] d = CompVisDenoiser.toD(x, denoised, sigmas[i]);
            float dt = sigmas[i + 1] - sigmas[i];
            float[] x2 = EulerSampler.step(x, d, dt);
            if (sigmas[i + 1] == 0f) {
                return x2;
            }
            float[] denoised2 = model.denoise(x2, sigmas[i + 1]);
            float[] d2 = CompVisDenoiser.toD(x2, denoised2, sigmas[i + 1]);
            float[] out = new float[x.length];
            for (int k = 0; k < x.length; k++) {
                float dPrime = (d[k] + d2[k]) / 2;
                out[k] = x[k] + dPrime * dt;
            }
            return out;
        };
    }
}
