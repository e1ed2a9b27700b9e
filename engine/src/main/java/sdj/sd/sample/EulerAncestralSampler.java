package sdj.sd.sample;

import sdj.random.TorchGenerator;

/**
 * k-diffusion {@code sample_euler_ancestral}: an Euler step down to σ_down, then fresh noise of
 * size σ_up, split by {@code get_ancestral_step} so the marginal lands on σ_{i+1}. η defaults to 1.
 */
public final class EulerAncestralSampler extends KDiffusionSampler {
    public EulerAncestralSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "euler_a";
    }

    /**
     * k-diffusion {@code get_ancestral_step}: σ_up = min(σ_to, η·√(σ_to²(σ_from² − σ_to²)/σ_from²)),
     * σ_down = √(σ_to² − σ_up²). Returns {σ_down, σ_up}.
     */
    static float[] ancestralStep(float sigmaFrom, float sigmaTo, float eta) {
        if (eta == 0f) {
            return new float[] {sigmaTo, 0f};
        }
        float up = Math.min(sigmaTo,
                eta * (float) Math.sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)
                        / (sigmaFrom * sigmaFrom)));
        float down = (float) Math.sqrt(sigmaTo * sigmaTo - up * up);
        return new float[] {down, up};
    }

    @Override
    protected Run newRun(float[] sigmas, CompVisDenoiser model, int[] shape, TorchGenerator rng) {
        float eta = (float) options.etaOr(1.0);
        return (x, i) -> {
            float[] denoised = model.denoise(x, sigmas[i]);
            float[] downUp = ancestralStep(sigmas[i], sigmas[i + 1], eta);
            float[] d = CompVisDenoiser.toD(x, denoised, sigmas[i]);
            float dt = downUp[0] - sigmas[i];
            float[] out = new float[x.length];
            for (int k = 0; k < x.length; k++) {
                out[k] = x[k] + d[k] * dt;
            }
            if (sigmas[i + 1] > 0) {
                float[] noise = rng.randn(shape).floats();
                for (int k = 0; k < x.length; k++) {
                    out[k] = out[k] + noise[k] * downUp[1];
                }
            }
            return out;
        };
    }
}
