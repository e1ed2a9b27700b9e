package sdj.sd.sample;

import sdj.tensor.Tensor;

/** The conditioned network call, UNet-shaped: ε(x, t, context) with context [B, tokens, width]. */
@FunctionalInterface
public interface ConditionalEpsModel {
    Tensor eps(Tensor x, float[] timesteps, Tensor context);
}
