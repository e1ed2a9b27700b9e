package sdj.sd.sample;

import sdj.random.TorchGenerator;

/**
 * k-diffusion {@code sample_dpmpp_2m} (DPM-Solver++(2M), Lu et al. 2022): exponential integrator
 * in λ = −log σ on the denoised prediction, second order from the previous step's prediction.
 * The first step, and the last step to σ = 0, are first order.
 */
public final class DpmPp2mSampler extends KDiffusionSampler {
    public DpmPp2mSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "dpmpp_2m";
    }

    private static double lambda(float sigma) {
        return -Math.log(sigma);
    }

    @Override
    protected Run newRun(float[] sigmas, CompVisDenoiser model, int[] shape, TorchGenerator rng) {
        float[][] oldDenoised = {null};
        return (x, i) -> {
            float[] denoised = model.denoise(x, sigmas[i]);
            float[] out = new float[x.length];
            if (sigmas[i + 1] == 0f) {
                // λ_next = ∞: the exponential-integrator step lands exactly on the prediction.
                System.arraycopy(denoised, 0, out, 0, x.length);
            } else {
                double t = lambda(sigmas[i]);
                double tNext = lambda(sigmas[i + 1]);
                double h = tNext - t;
                float ratio = sigmas[i + 1] / sigmas[i]; // σ(t_next)/σ(t)
                float phi = (float) -Math.expm1(-h); // 1 − σ_next/σ
                float[] target = denoised;
                if (oldDenoised[0] != null) {
                    double hLast = t - lambda(sigmas[i - 1]);
                    double r = hLast / h;
                    float cNew = (float) (1 + 1 / (2 * r));
                    float cOld = (float) (1 / (2 * r));
                    target = new float[x.length];
                    for (int k = 0; k < x.length; k++) {
                        target[k] = cNew * denoised[k] - cOld * oldDenoised[0][k];
                    }
                }
                for (int k = 0; k < x.length; k++) {
                    out[k] = ratio * x[k] + phi * target[k];
                }
            }
            oldDenoised[0] = denoised;
            return out;
        };
    }
}
