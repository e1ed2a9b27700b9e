package sdj.nn;

import sdj.ops.Norm;
import sdj.tensor.Tensor;

/** torch.nn.GroupNorm with affine weight/bias [C]. */
public final class GroupNorm {
    public final Tensor weight;
    public final Tensor bias;
    private final int groups;
    private final float eps;

    public GroupNorm(Params p, int groups, int channels, float eps) {
        this.weight = p.get("weight", ParameterStore.Init.ONES, channels);
        this.bias = p.get("bias", ParameterStore.Init.ZEROS, channels);
        this.groups = groups;
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return Norm.groupNorm(x, groups, weight, bias, eps);
    }

    /** silu(forward(x)), fused into one kernel on the GPU. */
    public Tensor forwardSilu(Tensor x) {
        return Norm.groupNormSilu(x, groups, weight, bias, eps);
    }
}
