package sdj.nn;

import sdj.ops.Norm;
import sdj.tensor.Tensor;

/** torch.nn.LayerNorm over the last dim with affine weight/bias. */
public final class LayerNorm {
    public final Tensor weight;
    public final Tensor bias;
    private final float eps;

    public LayerNorm(Params p, int dim, float eps) {
        this.weight = p.get("weight", ParameterStore.Init.ONES, dim);
        this.bias = p.get("bias", ParameterStore.Init.ZEROS, dim);
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return Norm.layerNorm(x, weight, bias, eps);
    }
}
