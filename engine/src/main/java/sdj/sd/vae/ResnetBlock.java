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

    /**
     * Each half in its own arena scope, the second and the sum taking over the half before them: at most the
     * input and three activations are alive at once (six without).
     */
    Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            Tensor h = LayerChain.scoped(() -> conv1.forward(norm1.forwardSilu(x))); // x: still needed for the sum
            h = LayerChain.step(y -> conv2.forward(norm2.forwardSilu(y)), h);
            return LayerChain.step(y -> (ninShortcut == null ? x : ninShortcut.forward(x)).add(y), h);
        }
    }
}
