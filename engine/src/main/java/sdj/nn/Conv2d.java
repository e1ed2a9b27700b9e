package sdj.nn;

import sdj.ops.Conv;
import sdj.tensor.Tensor;

/** torch.nn.Conv2d with square kernel, stride and symmetric padding; weight [out, in, k, k]. */
public final class Conv2d {
    public final Tensor weight;
    public final Tensor bias;
    private final int stride;
    private final int padding;

    public Conv2d(Params p, int in, int out, int kernel, int stride, int padding) {
        this.weight = p.get("weight", out, in, kernel, kernel);
        this.bias = p.get("bias", ParameterStore.Init.ZEROS, out);
        this.stride = stride;
        this.padding = padding;
    }

    public Tensor forward(Tensor x) {
        return Conv.conv2d(x, weight, bias, stride, padding);
    }

    /** With explicit (top, bottom, left, right) padding instead of the configured one. */
    public Tensor forward(Tensor x, int top, int bottom, int left, int right) {
        return Conv.conv2d(x, weight, bias, stride, top, bottom, left, right);
    }
}
