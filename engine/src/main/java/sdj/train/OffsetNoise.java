package sdj.train;

import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Offset noise (Guttenberg 2023; diffusers {@code --offset_noise}/{@code --noise_offset}, kohya
 * {@code --noise_offset}): a per-sample, per-channel constant added to the diffusion noise so the model
 * learns to move an image's mean brightness.
 */
public final class OffsetNoise {
    private OffsetNoise() {
    }

    /** noise [B, C, H, W] + strength·offset, offset [B, C, 1, 1] broadcast over H and W. */
    public static Tensor apply(Tensor noise, Tensor offset, float strength) {
        int[] ns = noise.shape();
        int[] os = offset.shape();
        if (ns.length != 4 || os.length != 4 || os[0] != ns[0] || os[1] != ns[1] || os[2] != 1 || os[3] != 1) {
            throw new IllegalArgumentException("offset noise needs noise [B, C, H, W] and an offset [B, C, 1, 1]; got "
                    + Shape.str(ns) + " and " + Shape.str(os));
        }
        return noise.add(offset.mul(strength));
    }
}
