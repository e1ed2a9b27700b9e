package sdj.train.vae;

import sdj.ops.Binary;
import sdj.ops.Unary;
import sdj.random.TorchGenerator;
import sdj.sd.vae.AutoencoderKL;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * LDM's {@code AutoencoderKL} training loss without its perceptual (LPIPS) and adversarial terms
 * ({@code LPIPSWithDiscriminator} at {@code perceptual_weight} 0 and before {@code disc_start}): the posterior sample
 * z = mean + exp(½·logvar_z)·ε (ε from the micro-batch's generator) is decoded to x′, rec = |x − x′| (or (x − x′)²),
 * nll = rec / exp(logvar) + logvar with LDM's learned scalar {@code logvar}, and
 * loss = Σnll / B + klWeight · ΣKL / B with KL = ½·Σ(mean² + var − 1 − logvar_z) per image.
 */
public final class VaeLoss {
    /** What the reconstruction term compares pixel by pixel. */
    public enum Reconstruction { L1, MSE }

    /** The parts of one micro-batch's loss; {@code total} is recorded for backward, the rest are plain numbers. */
    public record Parts(Tensor total, double meanReconstruction, double klPerImage) {
    }

    private VaeLoss() {
    }

    /**
     * @param pixels images [B, 3, H, W] in [−1, 1] on the model's device
     * @param logvar LDM's learned scalar log-variance of the reconstruction (0-dim)
     */
    public static Parts of(AutoencoderKL vae, Tensor pixels, Tensor logvar, double klWeight, Reconstruction kind,
            TorchGenerator g) {
        int embed = vae.config().embedDim();
        Tensor moments = vae.encodeMoments(pixels);
        int[] ms = moments.shape();
        int batch = ms[0];
        Tensor mean = moments.narrow(1, 0, embed);
        // LDM clamps logvar_z to [-30, 20]; sdj has no clamp op, and a from-scratch VAE's log-variances stay far
        // inside that range (a run whose exp overflows stops with a non-finite loss instead)
        Tensor logvarZ = moments.narrow(1, embed, embed);
        Tensor std = Unary.exp(logvarZ.mul(0.5f));
        Tensor eps = g.randn(batch, embed, ms[2], ms[3]).to(moments.device(), moments.dtype());
        Tensor z = mean.add(std.mul(eps));
        Tensor reconstruction = vae.decode(z);
        Tensor diff = pixels.sub(reconstruction);
        Tensor rec = kind == Reconstruction.L1 ? Binary.mul(diff, sign(diff)) : Binary.mul(diff, diff);
        Tensor recSum = rec.sum();
        long elements = diff.numel();
        // Σ(rec / exp(logvar) + logvar) over the pixels, with logvar one scalar
        Tensor nllSum = recSum.mul(Unary.exp(logvar.neg())).add(logvar.mul((float) elements));
        Tensor var = Unary.exp(logvarZ);
        Tensor kl = Binary.mul(mean, mean).add(var).add(-1f).sub(logvarZ).sum().mul(0.5f);
        Tensor total = nllSum.add(kl.mul((float) klWeight)).mul(1f / batch);
        double recMean = recSum.cpu().item() / elements;
        return new Parts(total, recMean, kl.cpu().item() / batch);
    }

    /**
     * sign(d) as a constant (−1, 0 or 1, as torch's {@code abs} backward): d·sign(d) = |d| with the gradient
     * sign(d), from ops every backend has. Host arithmetic, once per micro-batch.
     */
    static Tensor sign(Tensor d) {
        float[] v = d.detach().to(Device.CPU, DType.F32).toFloatArray();
        float[] s = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = Math.signum(v[i]);
        }
        return Tensor.of(s, d.shape()).to(d.device(), d.dtype());
    }
}
