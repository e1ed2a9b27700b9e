package sdj.sd.sample;

import sdj.random.TorchGenerator;
import sdj.tensor.Tensor;

/**
 * A reverse-diffusion sampler over latents [B,4,h,w]. Step indices count from the noisiest step
 * (0) to the last ({@link #stepCount} − 1); img2img and inpainting enter that schedule part-way.
 */
public interface Sampler {
    /** The name {@link Samplers#byName} knows it by. */
    String name();

    /** Steps actually run for a requested count (CompVis DDIM spacing can give one more). */
    int stepCount(int steps);

    /**
     * txt2img: samples from unit-variance noise xT (scaled to the first noise level as the method needs).
     * For the DDPM/DDIM family that level is xT itself, so this is the whole schedule from step 0.
     */
    default Tensor sample(EpsModel model, Tensor xT, int steps, TorchGenerator rng, ProgressListener progress) {
        return sampleFrom(model, xT, steps, 0, rng, progress);
    }

    /**
     * Runs steps {@code startIndex .. stepCount-1} from {@code xStart}, a latent already at the noise
     * level of step {@code startIndex} (see {@link #noise}).
     */
    Tensor sampleFrom(EpsModel model, Tensor xStart, int steps, int startIndex, TorchGenerator rng,
            ProgressListener progress);

    /**
     * Clean latents x0 noised to the level the sampler's latent has before step {@code stepIndex}:
     * {@code q_sample} √ᾱ·x0 + √(1−ᾱ)·ε for the DDPM/DDIM family, x0 + σ·ε for k-diffusion samplers.
     * {@code stepIndex == stepCount(steps)} (strength 0) is the level after the last step.
     */
    Tensor noise(Tensor x0, Tensor noise, int steps, int stepIndex);

    /**
     * img2img: the step to start from for a denoising strength in [0, 1], running the last
     * {@code floor(strength · n)} of n steps (CompVis {@code t_enc = int(strength * ddim_steps)}).
     */
    default int startIndexForStrength(int steps, double strength) {
        if (!(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
        }
        int n = stepCount(steps);
        return n - (int) (strength * n);
    }
}
