package sdj.nn;

import sdj.ops.Conv;
import sdj.ops.F;
import sdj.tensor.Tensor;

/** Square kernel, stride and the four paddings of a convolution (the VAE's downsample pads only bottom and right). */
record ConvGeometry(int kernel, int stride, int padTop, int padBottom, int padLeft, int padRight) {

    static ConvGeometry symmetric(int kernel, int stride, int padding) {
        return new ConvGeometry(kernel, stride, padding, padding, padding, padding);
    }

    /** 1×1, stride 1, no padding: a LoCon up-projection. */
    static final ConvGeometry POINTWISE = symmetric(1, 1, 0);

    Tensor apply(Tensor x, Tensor weight, Tensor bias) {
        if (padTop == padBottom && padTop == padLeft && padTop == padRight) {
            return F.conv2d(x, weight, bias, stride, padTop);
        }
        return Conv.conv2d(x, weight, bias, stride, padTop, padBottom, padLeft, padRight); // F has symmetric padding only
    }
}
