package sdj.sd.unet;

import sdj.nn.Conv2d;
import sdj.nn.Params;
import sdj.tensor.Tensor;

/** CompVis Downsample with use_conv: a 3×3 stride-2 conv named {@code op} (e.g. {@code input_blocks.3.0.op}). */
final class Downsample implements TimestepBlock {
    private final Conv2d op;

    Downsample(Params p, int channels) {
        this.op = p.conv2d("op", channels, channels, 3, 2, 1);
    }

    @Override
    public Tensor forward(Tensor x, Tensor emb, Tensor context) {
        return op.forward(x);
    }
}
