package sdj.sd.sample;

import java.util.Arrays;
import sdj.tensor.Tensor;

/** Small helpers the samplers share: calling the model on plain arrays, checking inputs. */
final class SamplerSupport {
    private SamplerSupport() {
    }

    /** ε for every batch item at the same timestep t. */
    static float[] eps(EpsModel model, float[] x, int[] shape, float t) {
        float[] ts = new float[shape[0]];
        Arrays.fill(ts, t);
        float[] out = model.eps(Tensor.of(x.clone(), shape), ts).toFloatArray();
        if (out.length != x.length) {
            throw new IllegalStateException("eps model returned " + out.length + " values for a latent of " + x.length);
        }
        return out;
    }

    static int[] checkLatent(Tensor x) {
        if (x.dim() < 2) {
            throw new IllegalArgumentException("latents must be batched [B, C, ...], got rank " + x.dim());
        }
        return x.shape();
    }

    static void checkStart(int startIndex, int n) {
        if (startIndex < 0 || startIndex > n) {
            throw new IllegalArgumentException("start index " + startIndex + " is outside 0.." + n);
        }
    }

    /** Applies the hook to an array latent. */
    static float[] hook(StepHook hook, float[] x, int[] shape, int stepIndex) {
        if (hook == StepHook.NONE) {
            return x;
        }
        return hook.beforeStep(Tensor.of(x.clone(), shape), stepIndex).toFloatArray();
    }
}
