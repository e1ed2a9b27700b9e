package sdj.nn;

import sdj.ops.MatMul;
import sdj.tensor.Tensor;

/** torch.nn.Linear: weight [out, in], optional bias [out]. */
public final class Linear {
    public final Tensor weight;
    public final Tensor bias;

    public Linear(Params p, int in, int out, boolean bias) {
        this.weight = p.get("weight", out, in);
        this.bias = bias ? p.get("bias", ParameterStore.Init.ZEROS, out) : null;
    }

    public Tensor forward(Tensor x) {
        return MatMul.linear(x, weight, bias);
    }
}
