package sdj.nn;

import sdj.ops.F;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/** torch.nn.LayerNorm over the last dim with affine weight/bias. */
public final class LayerNorm {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private final float eps;

    public LayerNorm(Params p, int dim, float eps) {
        this.name = p.moduleName();
        this.weight = p.param("weight", ParameterStore.Init.ONES, dim);
        this.bias = p.param("bias", ParameterStore.Init.ZEROS, dim);
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            return F.layerNorm(x, weight.tensor(), bias.tensor(), eps);
        }
    }
}
