package sdj.sd.sample;

import java.util.Arrays;
import sdj.random.TorchGenerator;
import sdj.tensor.Tensor;

/**
 * What the k-diffusion samplers (Karras et al. 2022 formulation) share: a decreasing σ schedule
 * ending in 0 (discrete or Karras), the {@link CompVisDenoiser} wrapper, the start latent
 * xT·σ_max, and x0 + σ·ε noising. img2img runs the tail {@code sigmas[start:]} as k-diffusion and
 * AUTOMATIC1111 do, so multistep history restarts at the entry point.
 */
abstract class KDiffusionSampler implements Sampler {
    protected final SamplerOptions options;

    KDiffusionSampler(SamplerOptions options) {
        this.options = options;
    }

    /** One run's state. {@code i} indexes {@code sigmas} (the run's own tail); the step goes σ_i → σ_{i+1}. */
    protected interface Run {
        float[] step(float[] x, int i);
    }

    protected abstract Run newRun(float[] sigmas, CompVisDenoiser model, int[] shape, TorchGenerator rng);

    /** n + 1 noise levels, the last 0. */
    final float[] sigmas(int steps) {
        Schedule s = options.schedule();
        return options.karras() ? s.karrasSigmas(steps) : s.discreteSigmas(steps);
    }

    @Override
    public int stepCount(int steps) {
        return steps;
    }

    @Override
    public Tensor sample(EpsModel model, Tensor xT, int steps, TorchGenerator rng, ProgressListener progress) {
        return sampleFrom(model, xT.mul(sigmas(steps)[0]), steps, 0, rng, progress);
    }

    @Override
    public Tensor sampleFrom(EpsModel model, Tensor xStart, int steps, int startIndex, TorchGenerator rng,
            ProgressListener progress) {
        int[] shape = SamplerSupport.checkLatent(xStart);
        float[] all = sigmas(steps);
        SamplerSupport.checkStart(startIndex, steps);
        float[] tail = Arrays.copyOfRange(all, startIndex, all.length);
        Run run = newRun(tail, new CompVisDenoiser(model, options.schedule(), shape), shape, rng);
        float[] x = xStart.toFloatArray();
        int total = tail.length - 1;
        for (int i = 0; i < total; i++) {
            x = SamplerSupport.hook(options.hook(), x, shape, startIndex + i);
            x = run.step(x, i);
            progress.onStep(i + 1, total);
        }
        return Tensor.of(x, shape);
    }

    @Override
    public Tensor noise(Tensor x0, Tensor noise, int steps, int stepIndex) {
        SamplerSupport.checkStart(stepIndex, steps);
        float sigma = sigmas(steps)[stepIndex]; // index n is the final σ = 0
        float[] a = x0.toFloatArray();
        float[] e = noise.toFloatArray();
        float[] out = new float[a.length];
        for (int k = 0; k < a.length; k++) {
            out[k] = a[k] + e[k] * sigma;
        }
        return Tensor.of(out, x0.shape());
    }
}
