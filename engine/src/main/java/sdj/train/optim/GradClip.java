package sdj.train.optim;

import java.util.List;
import sdj.ops.InPlace;
import sdj.ops.Reduce;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/** torch 1.13's {@code torch.nn.utils.clip_grad_norm_} with the 2-norm, on gradients of either device. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales the gradients in place so that their global 2-norm is at most maxNorm, and returns the norm before
     * clipping. As torch: each tensor's norm in float32, N = the float32 2-norm of those norms,
     * c = (1/(N + 1e-6))·max_norm in float32 (torch's {@code max_norm / tensor} is {@code reciprocal() * max_norm}),
     * every gradient multiplied by min(c, 1) (a multiplication by 1 changes nothing, so only c < 1 touches them).
     * Null entries (parameters without a gradient) are skipped.
     */
    public static float clipGradNorm(List<Tensor> grads, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("clip_grad_norm needs max_norm > 0, got " + maxNorm);
        }
        try (var scope = Autograd.noGrad()) {
            float total = globalNorm(grads);
            float coef = (1f / (total + 1e-6f)) * (float) maxNorm;
            if (coef < 1f) {
                for (Tensor g : grads) {
                    if (g != null) {
                        InPlace.mul_(g, coef);
                    }
                }
            }
            return total;
        }
    }

    /**
     * The 2-norm of the per-tensor 2-norms. Each tensor's sum of squares is an fp32 sum on its device (of the fp32
     * values of a half gradient) and its square root a float32, as torch's per-tensor norms; the few norms are
     * then combined in double and rounded once, which is within torch's float32 reduction's own rounding.
     */
    public static float globalNorm(List<Tensor> grads) {
        try (var scope = Autograd.noGrad()) {
            double sumOfSquares = 0;
            for (Tensor g : grads) {
                if (g != null) {
                    float n = norm(g);
                    sumOfSquares += (double) n * n;
                }
            }
            return (float) Math.sqrt(sumOfSquares);
        }
    }

    /** ‖g‖₂ in float32. */
    static float norm(Tensor g) {
        Tensor f = g.dtype() == DType.F32 ? g : g.to(g.device(), DType.F32);
        float sumSq = (float) Reduce.sumOfSquares(f);
        return (float) Math.sqrt(sumSq);
    }
}
