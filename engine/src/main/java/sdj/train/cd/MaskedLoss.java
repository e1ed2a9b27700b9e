package sdj.train.cd;

import java.util.Arrays;
import sdj.ops.Unary;
import sdj.tensor.Device;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Custom Diffusion's loss (adobe CompVis {@code p_losses} with a mask): per sample
 * L_b = Σ_{c,h,w} M_b·e_b² / Σ_{h,w} M_b with e = ε̂ − ε and the latent mask M [B, 1, h, w] (the
 * numerator sums the channels, the denominator counts each pixel once), then
 * loss = (Σ_instances L_b + priorLossWeight·Σ_class L_b) / B. The first {@code instances} samples are
 * instance images, the rest class (prior) images.
 */
public record MaskedLoss(int instances, double priorLossWeight) {

    /** The loss (0-dim, recorded for backward) of eps against target [B, C, h, w] under mask [B, 1, h, w]. */
    public Tensor compute(Tensor eps, Tensor target, Tensor mask) {
        int[] s = eps.shape();
        int b = s[0];
        if (s.length != 4 || !Arrays.equals(s, target.shape()) || !Arrays.equals(mask.shape(), new int[] {b, 1, s[2], s[3]})
                || instances > b) {
            throw new IllegalArgumentException("the masked loss needs a prediction and target [B, C, h, w], a mask"
                    + " [B, 1, h, w] and at most B instances; got " + Shape.str(s) + ", " + Shape.str(target.shape())
                    + ", mask " + Shape.str(mask.shape()) + ", " + instances + " instances");
        }
        float[] m = mask.to(Device.CPU, DType.F32).toFloatArray();
        int plane = s[2] * s[3];
        float[] weights = new float[b]; // w_b / (B·Σ_hw M_b), so that Σ_b weights_b·Σ M·e² is the loss
        for (int i = 0; i < b; i++) {
            double area = 0;
            for (int j = 0; j < plane; j++) {
                area += m[i * plane + j];
            }
            if (area <= 0) {
                throw new IllegalArgumentException("the loss mask of sample " + i + " is all zeros; every image needs"
                        + " some pixels to learn from");
            }
            double w = i < instances ? 1 : priorLossWeight;
            weights[i] = (float) (w / (b * area));
        }
        Tensor onDevice = mask.to(eps.device(), eps.dtype());
        Tensor perSample = Unary.square(eps.sub(target)).mul(onDevice).reshape(b, -1).sum(1, false); // [B]
        Tensor w = Tensor.of(weights, b).to(eps.device(), perSample.dtype());
        return perSample.mul(w).sum();
    }
}
