package sdj.sd.sample;

import sdj.tensor.Tensor;

/**
 * Runs before every sampling step and may replace the latent: inpainting uses it to paste the
 * known region, noised to the current level with {@link Sampler#noise}, over x (as CompVis does
 * with {@code img = q_sample(x0, t) * mask + (1 - mask) * img}).
 */
@FunctionalInterface
public interface StepHook {
    StepHook NONE = (x, stepIndex) -> x;

    /** @param stepIndex index of the step about to run in the full schedule of {@link Sampler#stepCount} steps */
    Tensor beforeStep(Tensor x, int stepIndex);
}
