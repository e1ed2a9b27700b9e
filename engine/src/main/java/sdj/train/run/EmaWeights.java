package sdj.train.run;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.nn.Parameter;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * An exponential moving average of the trained weights, as diffusers' {@code EMAModel} keeps it with its defaults
 * (no warm-up, {@code update_after_step} 0, {@code min_decay} 0): at its n-th step the decay is 0 for n = 1 and
 * min(emaDecay, (1 + s)/(10 + s)) with s = n − 1 after, and each shadow weight moves by
 * {@code shadow −= (1 − decay)·(shadow − weight)} in fp32. The shadow starts as the weights at the start of the run.
 */
final class EmaWeights {
    private final double maxDecay;
    private final Map<String, float[]> shadow = new LinkedHashMap<>();
    private long steps;

    EmaWeights(double maxDecay, List<Parameter> params) {
        this.maxDecay = maxDecay;
        for (Parameter p : params) {
            shadow.put(p.name(), host(p.master()).clone());
        }
    }

    /** diffusers' {@code EMAModel.get_decay} at its {@code optimization_step} n (counted from 1). */
    static double decay(double maxDecay, long n) {
        long s = n - 1;
        return s <= 0 ? 0.0 : Math.min(maxDecay, (1.0 + s) / (10.0 + s));
    }

    /** One EMA step towards the parameters' current (master) weights. */
    void step(List<Parameter> params) {
        steps++;
        float oneMinusDecay = (float) (1 - decay(maxDecay, steps));
        for (Parameter p : params) {
            float[] s = shadow.get(p.name());
            float[] w = host(p.master());
            for (int i = 0; i < s.length; i++) {
                s[i] -= oneMinusDecay * (s[i] - w[i]);
            }
        }
    }

    long steps() {
        return steps;
    }

    /** The shadow weights by parameter name, as tensors of the parameters' shapes. */
    Map<String, Tensor> weights(List<Parameter> params) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Parameter p : params) {
            out.put(p.name(), Tensor.of(shadow.get(p.name()).clone(), p.tensor().shape()));
        }
        return out;
    }

    /** Continues from a checkpoint's EMA state; one sentence when it does not hold every trained parameter. */
    void restore(long savedSteps, Map<String, Tensor> saved, Path checkpoint) {
        if (!saved.keySet().equals(shadow.keySet())) {
            throw new IllegalArgumentException("Checkpoint " + checkpoint + " holds EMA weights for " + saved.size()
                    + " tensors but this run trains " + shadow.size() + "; resume with the settings of the run that"
                    + " wrote it.");
        }
        saved.forEach((name, t) -> shadow.put(name, host(t).clone()));
        this.steps = savedSteps;
    }

    private static float[] host(Tensor t) {
        return t.detach().to(Device.CPU, DType.F32).toFloatArray();
    }
}
