package sdj.sd.sample;

import sdj.tensor.Tensor;

/**
 * A noise predictor ε(x_t, t): given latents x [B,4,h,w] at diffusion timesteps t (one per batch
 * item, fractional for the k-diffusion samplers) returns the predicted noise, same shape as x.
 * Classifier-free guidance lives inside an implementation ({@link CfgEpsModel}), not in the samplers.
 */
@FunctionalInterface
public interface EpsModel {
    Tensor eps(Tensor x, float[] timesteps);
}
