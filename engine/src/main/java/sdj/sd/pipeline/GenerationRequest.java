package sdj.sd.pipeline;

import sdj.tensor.Tensor;

/**
 * Everything one txt2img/img2img run needs. Defaults follow CompVis txt2img: 512×512, 50 steps,
 * guidance 7.5, one image.
 *
 * @param initImage img2img start image [1, 3, height, width] in [−1, 1], or null for txt2img
 * @param strength img2img denoising strength in [0, 1] (1 = ignore the image's content)
 * @param mask inpainting mask [1, 1, height/8, width/8], 1 = repaint, 0 = keep; null for none
 */
public record GenerationRequest(String prompt, String negativePrompt, String sampler, boolean karras, int steps,
        float scale, long seed, int width, int height, int batchSize, int batchCount, double eta, Tensor initImage,
        double strength, Tensor mask) {

    public GenerationRequest {
        if (width <= 0 || height <= 0 || width % 8 != 0 || height % 8 != 0) {
            throw new IllegalArgumentException("width and height must be positive multiples of 8, got " + width + "x"
                    + height + " (try " + Math.max(8, width / 8 * 8) + "x" + Math.max(8, height / 8 * 8) + ")");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        if (batchSize < 1 || batchCount < 1) {
            throw new IllegalArgumentException("--n-samples and --n-iter must be at least 1");
        }
        if (!(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
        }
        negativePrompt = negativePrompt == null ? "" : negativePrompt;
    }

    public static GenerationRequest txt2img(String prompt) {
        return new GenerationRequest(prompt, "", "plms", false, 50, 7.5f, 42, 512, 512, 1, 1, 0.0, null, 0.75, null);
    }

    public GenerationRequest withSampler(String name, boolean useKarras) {
        return new GenerationRequest(prompt, negativePrompt, name, useKarras, steps, scale, seed, width, height, batchSize,
                batchCount, eta, initImage, strength, mask);
    }

    public GenerationRequest withSize(int w, int h) {
        return new GenerationRequest(prompt, negativePrompt, sampler, karras, steps, scale, seed, w, h, batchSize,
                batchCount, eta, initImage, strength, mask);
    }

    public GenerationRequest withSteps(int n, float guidance, long newSeed) {
        return new GenerationRequest(prompt, negativePrompt, sampler, karras, n, guidance, newSeed, width, height,
                batchSize, batchCount, eta, initImage, strength, mask);
    }

    public GenerationRequest withImage(Tensor image, double denoise, Tensor inpaintMask) {
        return new GenerationRequest(prompt, negativePrompt, sampler, karras, steps, scale, seed, width, height, batchSize,
                batchCount, eta, image, denoise, inpaintMask);
    }

    /** The seed of image {@code index} (0-based over all batches): seed + index, as AUTOMATIC1111 numbers them. */
    public long seedOf(int index) {
        return seed + index;
    }
}
