package sdj.sd.sample;

import sdj.random.TorchGenerator;
import sdj.tensor.Tensor;

/**
 * What DDIM and PLMS share: CompVis's uniform DDIM timesteps walked from the noisiest down, the
 * variance-preserving latent (xT used as is), and q_sample noising for img2img/inpainting.
 *
 * <p>img2img noises to exactly the level of the first step run. CompVis's {@code stochastic_encode}
 * noises to {@code ddim_alphas[t_enc]}, one DDIM step noisier than where {@code decode} starts;
 * we do not copy that off-by-one.
 */
abstract class DdimFamilySampler implements Sampler {
    protected final SamplerOptions options;

    DdimFamilySampler(SamplerOptions options) {
        this.options = options;
    }

    protected abstract double eta();

    /** One sampling run's state; {@code index} is the position in the ascending DDIM arrays. */
    protected interface Run {
        float[] step(float[] x, int index);
    }

    protected abstract Run newRun(DdimSchedule ddim, EpsModel model, int[] shape, TorchGenerator rng);

    final DdimSchedule ddim(int steps) {
        return new DdimSchedule(options.schedule(), steps, eta());
    }

    @Override
    public int stepCount(int steps) {
        return ddim(steps).size();
    }

    @Override
    public Tensor sampleFrom(EpsModel model, Tensor xStart, int steps, int startIndex, TorchGenerator rng,
            ProgressListener progress) {
        int[] shape = SamplerSupport.checkLatent(xStart);
        DdimSchedule ddim = ddim(steps);
        int n = ddim.size();
        SamplerSupport.checkStart(startIndex, n);
        Run run = newRun(ddim, model, shape, rng);
        float[] x = xStart.toFloatArray();
        for (int i = startIndex; i < n; i++) {
            x = SamplerSupport.hook(options.hook(), x, shape, i);
            x = run.step(x, n - 1 - i);
            progress.onStep(i - startIndex + 1, n - startIndex);
        }
        return Tensor.of(x, shape);
    }

    @Override
    public Tensor noise(Tensor x0, Tensor noise, int steps, int stepIndex) {
        DdimSchedule ddim = ddim(steps);
        int n = ddim.size();
        SamplerSupport.checkStart(stepIndex, n);
        // index n is the level after the last step: ᾱ_0 (CompVis's final alphas_prev)
        double a = stepIndex == n ? ddim.alphasPrev[0] : ddim.alphas[n - 1 - stepIndex];
        return QSample.noise(x0, noise, a);
    }
}
