package sdj.sd.sample;

import java.util.ArrayList;
import java.util.List;
import sdj.random.TorchGenerator;

/**
 * CompVis {@code PLMSSampler} (pseudo linear multistep, Liu et al. 2022) on the DDIM timesteps:
 * the first step is a pseudo improved-Euler step (an extra model call at the next timestep),
 * later steps combine the last 2, 3 then 4 noise predictions with Adams–Bashforth weights and
 * feed the result to the deterministic DDIM update. η must be 0.
 */
public final class PlmsSampler extends DdimFamilySampler {
    public PlmsSampler(SamplerOptions options) {
        super(options);
        if (eta() != 0) {
            throw new IllegalArgumentException("PLMS needs eta = 0 (ddim_eta must be 0 for PLMS), got " + eta());
        }
    }

    @Override
    public String name() {
        return "plms";
    }

    @Override
    protected double eta() {
        return options.etaOr(0.0);
    }

    @Override
    protected Run newRun(DdimSchedule ddim, EpsModel model, int[] shape, TorchGenerator rng) {
        List<float[]> oldEps = new ArrayList<>();
        return (x, index) -> {
            float[] e = SamplerSupport.eps(model, x, shape, ddim.timesteps[index]);
            float[] ePrime = new float[e.length];
            switch (oldEps.size()) {
                case 0 -> {
                    float[] xNext = ddim.step(x, e, index, null);
                    int tNext = ddim.timesteps[Math.max(index - 1, 0)];
                    float[] eNext = SamplerSupport.eps(model, xNext, shape, tNext);
                    for (int k = 0; k < e.length; k++) {
                        ePrime[k] = (e[k] + eNext[k]) / 2;
                    }
                }
                case 1 -> {
                    float[] e1 = oldEps.get(0);
                    for (int k = 0; k < e.length; k++) {
                        ePrime[k] = (3 * e[k] - e1[k]) / 2;
                    }
                }
                case 2 -> {
                    float[] e1 = oldEps.get(1);
                    float[] e2 = oldEps.get(0);
                    for (int k = 0; k < e.length; k++) {
                        ePrime[k] = (23 * e[k] - 16 * e1[k] + 5 * e2[k]) / 12;
                    }
                }
                default -> {
                    float[] e1 = oldEps.get(2);
                    float[] e2 = oldEps.get(1);
                    float[] e3 = oldEps.get(0);
                    for (int k = 0; k < e.length; k++) {
                        ePrime[k] = (55 * e[k] - 59 * e1[k] + 37 * e2[k] - 9 * e3[k]) / 24;
                    }
                }
            }
            oldEps.add(e);
            if (oldEps.size() > 3) {
                oldEps.remove(0); // CompVis pops at len >= 4: three past predictions are kept
            }
            return ddim.step(x, ePrime, index, null);
        };
    }
}
