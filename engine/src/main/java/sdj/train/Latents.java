package sdj.train;

import sdj.sd.vae.AutoencoderKL;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Training latents from images: a sample of the VAE's diagonal Gaussian posterior, times the latent
 * scale factor (LDM {@code DiagonalGaussianDistribution.sample} and {@code scale_factor}). The VAE is
 * frozen in every fine-tuning method here, so this runs without gradients.
 */
public final class Latents {
    /** LDM clamps the log-variance to this range before taking exp(½·logvar). */
    static final float LOGVAR_MIN = -30f;
    static final float LOGVAR_MAX = 20f;

    private Latents() {
    }

    /**
     * scale·(mean + exp(½·clamp(logvar, −30, 20))·noise) in float32, with moments [B, 2C, h, w] = mean
     * (channels 0..C−1) then logvar, and noise [B, C, h, w]. Host arithmetic (a small tensor, once per
     * image); the result is on the moments' device.
     */
    public static Tensor sample(Tensor moments, Tensor noise, float scaleFactor) {
        int[] ms = moments.shape();
        int[] ns = noise.shape();
        if (ms.length != 4 || ns.length != 4 || ms[1] != 2 * ns[1] || ms[0] != ns[0] || ms[2] != ns[2] || ms[3] != ns[3]) {
            throw new IllegalArgumentException("posterior sampling needs moments [B, 2C, h, w] and noise [B, C, h, w]; got "
                    + Shape.str(ms) + " and " + Shape.str(ns));
        }
        float[] m = moments.to(Device.CPU, DType.F32).toFloatArray();
        float[] n = noise.to(Device.CPU, DType.F32).toFloatArray();
        int plane = ns[1] * ns[2] * ns[3];
        float[] out = new float[n.length];
        for (int b = 0; b < ns[0]; b++) {
            for (int i = 0; i < plane; i++) {
                float mean = m[b * 2 * plane + i];
                float logvar = Math.min(Math.max(m[b * 2 * plane + plane + i], LOGVAR_MIN), LOGVAR_MAX);
                float std = (float) Math.exp(0.5f * logvar);
                out[b * plane + i] = scaleFactor * (mean + std * n[b * plane + i]);
            }
        }
        return Tensor.of(out, ns).to(moments.device(), moments.device() == Device.CPU ? DType.F32 : moments.dtype());
    }

    /** Pixels [B, 3, H, W] in [−1, 1] through the encoder, then {@link #sample}. */
    public static Tensor encode(AutoencoderKL vae, Tensor pixels, Tensor noise, float scaleFactor) {
        try (var g = Autograd.noGrad()) {
            return sample(vae.encodeMoments(pixels), noise, scaleFactor);
        }
    }
}
