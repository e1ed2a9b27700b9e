package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * group_norm and layer_norm: normalise each (image, group) or each token over its values (biased
 * variance, as PyTorch), then a per-channel affine. The backends keep the statistics their backward needs.
 */
public final class Norm {
    private Norm() {
    }

    /** x [N, C, *] normalised over (C/groups, *) per group; weight/bias [C] (may be null). */
    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return groupNorm("group_norm", x, groups, weight, bias, eps, false);
    }

    /** silu(group_norm(x)), the pair that opens every SD ResBlock branch: one fused kernel on the GPU. */
    public static Tensor groupNormSilu(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return groupNorm("group_norm_silu", x, groups, weight, bias, eps, true);
    }

    private static Tensor groupNorm(String name, Tensor x, int groups, Tensor weight, Tensor bias, float eps,
            boolean silu) {
        int[] s = x.shape();
        if (s.length < 2 || groups <= 0 || s[1] % groups != 0) {
            throw new IllegalArgumentException("group_norm with " + groups + " groups of input " + Shape.str(s));
        }
        Backend backend = Backends.of(name, x, weight, bias);
        Tensor[] inputs = {x, weight, bias};
        return Grads.record(name, inputs,
                backend.groupNorm(x, groups, weight, bias, eps, silu, Autograd.willRecord(inputs)));
    }

    /** x [..., D] normalised over the last dim; weight/bias [D]. */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        Backend backend = Backends.of("layer_norm", x, weight, bias);
        Tensor[] inputs = {x, weight, bias};
        return Grads.record("layer_norm", inputs, backend.layerNorm(x, weight, bias, eps, Autograd.willRecord(inputs)));
    }
}
