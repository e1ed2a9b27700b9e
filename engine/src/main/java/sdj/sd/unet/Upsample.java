package sdj.sd.unet;

import sdj.nn.Conv2d;
import sdj.nn.Params;
import sdj.ops.F;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/** CompVis Upsample with use_conv: nearest ×2, then a 3×3 conv named {@code conv} (e.g. {@code output_blocks.2.1.conv}). */
final class Upsample implements TimestepBlock {
    private final String name;
    private final Conv2d conv;

    Upsample(Params p, int channels) {
        this.name = p.moduleName();
        this.conv = p.conv2d("conv", channels, channels, 3, 1, 1);
    }

    @Override
    public Tensor forward(Tensor x, Tensor emb, Tensor context) {
        try (var profiled = Profiling.module(name)) {
            return conv.forward(F.upsampleNearest2x(x));
        }
    }
}
