package sdj.sd.vae;

import sdj.nn.Conv2d;
import sdj.nn.GroupNorm;
import sdj.nn.Params;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/** VAE ResnetBlock (no time embedding): x + conv2(swish(norm2(conv1(swish(norm1(x)))))), 1×1 nin_shortcut on channel change. */
final class ResnetBlock {
    private final String name;
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d ninShortcut;

    ResnetBlock(Params p, int in, int out, int groups) {
        this.name = p.moduleName();
        this.norm1 = new GroupNorm(p.sub("norm1"), groups, in, 1e-6f);
        this.conv1 = p.conv2d("conv1", in, out, 3, 1, 1);
        this.norm2 = new GroupNorm(p.sub("norm2"), groups, out, 1e-6f);
        this.conv2 = p.conv2d("conv2", out, out, 3, 1, 1);
        this.ninShortcut = in == out ? null : p.conv2d("nin_shortcut", in, out, 1, 1, 0);
    }

    Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            Tensor h = conv1.forward(norm1.forwardSilu(x));
            h = conv2.forward(norm2.forwardSilu(h));
            return (ninShortcut == null ? x : ninShortcut.forward(x)).add(h);
        }
    }
}
