package sdj.sd.unet;

import java.util.List;
import sdj.ops.F;
import sdj.tensor.Tensor;

/**
 * Custom Diffusion's detach of the start token's key/value in cross-attention: the same values, but no
 * gradient flows through context position 0 (adobe's {@code k = m⊙k + (1−m)⊙k.detach()}, written here as
 * the detached first row joined to the rest, which gives the same values and gradients exactly).
 */
final class StartTokenDetach {
    private StartTokenDetach() {
    }

    /** k [B, N, C] → the same values with row 0 of every sample cut from the graph. */
    static Tensor apply(Tensor k) {
        int n = k.size(1);
        if (n < 2) {
            return k.detach();
        }
        return F.cat(List.of(k.narrow(1, 0, 1).detach(), k.narrow(1, 1, n - 1)), 1);
    }
}
