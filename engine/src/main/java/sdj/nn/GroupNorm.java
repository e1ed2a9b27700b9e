package sdj.nn;

import sdj.ops.F;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/** torch.nn.GroupNorm with affine weight/bias [C]. */
public final class GroupNorm {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private final int groups;
    private final float eps;

    public GroupNorm(Params p, int groups, int channels, float eps) {
        this.name = p.moduleName();
        this.weight = p.param("weight", ParameterStore.Init.ONES, channels);
        this.bias = p.param("bias", ParameterStore.Init.ZEROS, channels);
        this.groups = groups;
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            return F.groupNorm(x, groups, weight.tensor(), bias.tensor(), eps);
        }
    }

    /** silu(forward(x)), fused into one kernel on the GPU. */
    public Tensor forwardSilu(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            return F.groupNormSilu(x, groups, weight.tensor(), bias.tensor(), eps);
        }
    }
}
