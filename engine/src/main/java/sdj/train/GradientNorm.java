package sdj.train;

import sdj.nn.Parameter;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The global gradient norm √(Σ‖g‖²) over trainable parameters, accumulated in float64 on the host: the
 * N that {@code clip_grad_norm_} reports, for checks and logs (the optimizer's clipping computes its own).
 */
public final class GradientNorm {
    private GradientNorm() {
    }

    /** Over the trainable parameters that have a gradient; parameters that got none count as zero. */
    public static double global(Iterable<Parameter> params) {
        double sum = 0;
        for (Parameter p : params) {
            Tensor g = p.trainable() ? p.tensor().grad() : null;
            if (g != null) {
                for (float v : g.to(Device.CPU, DType.F32).toFloatArray()) {
                    sum += (double) v * v;
                }
            }
        }
        return Math.sqrt(sum);
    }
}
