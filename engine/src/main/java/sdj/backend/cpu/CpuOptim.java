package sdj.backend.cpu;

import java.util.Arrays;
import sdj.tensor.AdamWStep;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Optimizer updates on fp32 heap tensors, in place. The element-wise float32 operations follow torch 1.13's
 * CPU kernels one by one (the CUDA twin, kernels/optim.cu, performs the same ones, so both agree bit for bit).
 */
final class CpuOptim {
    private CpuOptim() {
    }

    /** {@link sdj.tensor.Backend#adamwStep}: torch's {@code _single_tensor_adamw} for one tensor. */
    static void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        float[] p = contiguousHeap(param, "param", param);
        float[] ma = contiguousHeap(m, "exp_avg", param);
        float[] va = contiguousHeap(v, "exp_avg_sq", param);
        if (!Arrays.equals(grad.shape(), param.shape())) {
            throw new IllegalArgumentException("adamw: the gradient has shape " + Shape.str(grad.shape())
                    + " but the parameter " + Shape.str(param.shape()));
        }
        float[] g = grad.floats();
        int po = (int) param.offset(), mo = (int) m.offset(), vo = (int) v.offset();
        float decay = s.decay(), b1 = s.beta1F(), a1 = s.oneMinusBeta1(), b2 = s.beta2F(), a2 = s.oneMinusBeta2();
        float bc2 = s.biasCorrection2Sqrt(), eps = s.epsF(), negStep = s.negativeStepSize();
        Parallel.range(g.length, 12, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float gi = g[i];
                p[po + i] = p[po + i] * decay;                               // param.mul_(1 - lr*wd)
                float mi = Math.fma(gi, a1, ma[mo + i] * b1);                // exp_avg.mul_(b1).add_(g, alpha=1-b1): fmadd
                float vi = va[vo + i] * b2 + a2 * gi * gi;                   // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
                float denom = (float) Math.sqrt(vi) / bc2 + eps;             // (sqrt(v) / sqrt(bc2)).add_(eps)
                p[po + i] = p[po + i] + negStep * mi / denom;                // param.addcdiv_(m, denom, value=-step_size)
                ma[mo + i] = mi;
                va[vo + i] = vi;
            }
        });
    }

    private static float[] contiguousHeap(Tensor t, String what, Tensor param) {
        float[] heap = t.storage().heapFloats();
        if (heap == null || !t.isContiguous()) {
            throw new IllegalArgumentException("adamw updates contiguous fp32 heap tensors in place; " + what + " is " + t);
        }
        if (!Arrays.equals(t.shape(), param.shape())) {
            throw new IllegalArgumentException("adamw: " + what + " has shape " + Shape.str(t.shape())
                    + " but the parameter " + Shape.str(param.shape()));
        }
        return heap;
    }
}
