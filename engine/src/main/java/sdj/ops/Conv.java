package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * 2-D convolution (groups = 1) of x [N, C, H, W] with weight [O, C, kh, kw]. Padding may be asymmetric
 * (the VAE's downsample pads only right and bottom).
 */
public final class Conv {
    private Conv() {
    }

    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        return conv2d(x, weight, bias, stride, padding, padding, padding, padding);
    }

    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padTop, int padBottom, int padLeft,
            int padRight) {
        int[] xs = x.shape();
        int[] ws = weight.shape();
        if (xs.length != 4 || ws.length != 4 || xs[1] != ws[1]) {
            throw new IllegalArgumentException("conv2d of input " + Shape.str(xs) + " with weight " + Shape.str(ws)
                    + ": expected [N, C, H, W] and [O, C, kh, kw] with equal C");
        }
        Backend backend = Backends.of("conv2d", x, weight, bias);
        if (stride <= 0 || (xs[2] + padTop + padBottom - ws[2]) / stride + 1 <= 0
                || (xs[3] + padLeft + padRight - ws[3]) / stride + 1 <= 0 || xs[2] + padTop + padBottom < ws[2]
                || xs[3] + padLeft + padRight < ws[3]) {
            throw new IllegalArgumentException("conv2d kernel " + Shape.str(ws) + " does not fit input " + Shape.str(xs));
        }
        Tensor[] inputs = bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
        int[] padding = {padTop, padBottom, padLeft, padRight};
        return Grads.record("conv2d", inputs,
                backend.conv2d(x, weight, bias, stride, padding, Autograd.willRecord(inputs)));
    }
}
