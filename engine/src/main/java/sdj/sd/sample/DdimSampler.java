package sdj.sd.sample;

import sdj.random.TorchGenerator;

/**
 * CompVis {@code DDIMSampler} (Song et al. 2021) with η (default 0, deterministic). Noise for
 * η > 0 is drawn from the given generator as {@code randn(x.shape)} each step.
 */
public final class DdimSampler extends DdimFamilySampler {
    public DdimSampler(SamplerOptions options) {
        super(options);
        if (eta() < 0) {
            throw new IllegalArgumentException("DDIM eta must be >= 0, got " + eta());
        }
    }

    @Override
    public String name() {
        return "ddim";
    }

    @Override
    protected double eta() {
        return options.etaOr(0.0);
    }

    @Override
    protected Run newRun(DdimSchedule ddim, EpsModel model, int[] shape, TorchGenerator rng) {
        return (x, index) -> {
            float[] e = SamplerSupport.eps(model, x, shape, ddim.timesteps[index]);
            float[] noise = ddim.sigmas[index] == 0f ? null : rng.randn(shape).floats();
            return ddim.step(x, e, index, noise);
        };
    }
}
