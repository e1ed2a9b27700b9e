package sdj.sd.vae;

import sdj.nn.Conv2d;
import sdj.nn.Params;
import sdj.ops.F;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/** CompVis VAE Upsample ({@code up.N.upsample.conv}): nearest ×2, then a 3×3 conv. */
final class Upsample {
    private final String name;
    private final Conv2d conv;

    Upsample(Params p, int channels) {
        this.name = p.moduleName();
        this.conv = p.conv2d("conv", channels, channels, 3, 1, 1);
    }

    Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            return conv.forward(F.upsampleNearest2x(x));
        }
    }
}
