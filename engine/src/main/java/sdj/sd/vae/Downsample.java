package sdj.sd.vae;

import sdj.nn.Conv2d;
import sdj.nn.Params;
import sdj.tensor.Tensor;

/**
 * CompVis VAE Downsample ({@code down.N.downsample.conv}): pads bottom and right by one, then a 3×3
 * stride-2 conv without padding; the padding belongs to the conv so an adapter on it pads alike.
 */
final class Downsample {
    private final Conv2d conv;

    Downsample(Params p, int channels) {
        this.conv = p.conv2d("conv", channels, channels, 3, 2, 0, 1, 0, 1);
    }

    Tensor forward(Tensor x) {
        return conv.forward(x);
    }
}
