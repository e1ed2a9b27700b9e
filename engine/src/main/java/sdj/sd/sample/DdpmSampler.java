package sdj.sd.sample;

import sdj.random.TorchGenerator;
import sdj.tensor.Tensor;

/**
 * Ancestral DDPM sampling (Ho et al. 2020) as LDM's {@code p_sample}: predict x0 from ε, take the
 * posterior mean of q(x_{t−1} | x_t, x0) and add noise with the posterior variance (no noise at the
 * last step). Fewer than T steps use respaced timesteps t_k = round(k·(T−1)/(n−1)) with the betas
 * re-derived from ᾱ (β_k = 1 − ᾱ_k/ᾱ_{k−1}, as improved-DDPM respacing does); n = T is LDM exactly.
 * x0 is not clipped (LDM's clip to [−1, 1] is meant for pixels, not SD latents).
 */
public final class DdpmSampler implements Sampler {
    private final SamplerOptions options;

    public DdpmSampler(SamplerOptions options) {
        this.options = options;
    }

    @Override
    public String name() {
        return "ddpm";
    }

    @Override
    public int stepCount(int steps) {
        return steps;
    }

    /** Ascending respaced training timesteps. */
    int[] timesteps(int steps) {
        int total = options.schedule().timesteps();
        if (steps < 1 || steps > total) {
            throw new IllegalArgumentException("DDPM needs 1.." + total + " steps, got " + steps);
        }
        int[] ts = new int[steps];
        if (steps == 1) {
            ts[0] = total - 1;
            return ts;
        }
        for (int k = 0; k < steps; k++) {
            ts[k] = (int) Math.round((double) k * (total - 1) / (steps - 1));
        }
        return ts;
    }

    @Override
    public Tensor sampleFrom(EpsModel model, Tensor xStart, int steps, int startIndex, TorchGenerator rng,
            ProgressListener progress) {
        int[] shape = SamplerSupport.checkLatent(xStart);
        int[] ts = timesteps(steps);
        int n = ts.length;
        SamplerSupport.checkStart(startIndex, n);
        Schedule s = options.schedule();
        float[] x = xStart.toFloatArray();
        for (int i = startIndex; i < n; i++) {
            x = SamplerSupport.hook(options.hook(), x, shape, i);
            int k = n - 1 - i;
            double ac = s.alphaCumprod(ts[k]);
            double acPrev = k == 0 ? 1.0 : s.alphaCumprod(ts[k - 1]);
            double beta = 1 - ac / acPrev;
            // LDM register_schedule, in float64 then fp32.
            float sqrtRecip = (float) Math.sqrt(1 / ac);
            float sqrtRecipM1 = (float) Math.sqrt(1 / ac - 1);
            float coef1 = (float) (beta * Math.sqrt(acPrev) / (1 - ac));
            float coef2 = (float) ((1 - acPrev) * Math.sqrt(1 - beta) / (1 - ac));
            double variance = beta * (1 - acPrev) / (1 - ac);
            float std = (float) Math.exp(0.5 * Math.log(Math.max(variance, 1e-20)));

            float[] e = SamplerSupport.eps(model, x, shape, ts[k]);
            float[] noise = k > 0 ? rng.randn(shape).floats() : null;
            float[] out = new float[x.length];
            for (int q = 0; q < x.length; q++) {
                float x0 = sqrtRecip * x[q] - sqrtRecipM1 * e[q];
                float mean = coef1 * x0 + coef2 * x[q];
                out[q] = noise == null ? mean : mean + std * noise[q];
            }
            x = out;
            progress.onStep(i - startIndex + 1, n - startIndex);
        }
        return Tensor.of(x, shape);
    }

    @Override
    public Tensor noise(Tensor x0, Tensor noise, int steps, int stepIndex) {
        int[] ts = timesteps(steps);
        int n = ts.length;
        SamplerSupport.checkStart(stepIndex, n);
        double a = stepIndex == n ? 1.0 : options.schedule().alphaCumprod(ts[n - 1 - stepIndex]); // n: clean
        return QSample.noise(x0, noise, a);
    }
}
