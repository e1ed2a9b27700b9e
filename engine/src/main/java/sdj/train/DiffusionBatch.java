package sdj.train;

import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * One training batch for the ε-prediction objective: clean latents x0 [B, C, h, w] (already scaled),
 * integer timesteps [B], the noise ε [B, C, h, w] that is both added and predicted (offset noise
 * included), and the text context [B, N, D].
 */
public record DiffusionBatch(Tensor latents, long[] timesteps, Tensor noise, Tensor context) {
    public DiffusionBatch {
        int b = latents.size(0);
        if (timesteps.length != b || noise.size(0) != b || context.size(0) != b) {
            throw new IllegalArgumentException("a training batch needs B latents, B timesteps, B noise tensors and B contexts;"
                    + " got latents " + Shape.str(latents.shape()) + ", " + timesteps.length + " timesteps, noise "
                    + Shape.str(noise.shape()) + ", context " + Shape.str(context.shape()));
        }
        timesteps = timesteps.clone();
    }

    public int size() {
        return timesteps.length;
    }

    /** The timesteps as the UNet's float input. */
    public float[] timestepsAsFloats() {
        float[] out = new float[timesteps.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = timesteps[i];
        }
        return out;
    }
}
