package sdj.sd.vae;

import sdj.nn.Conv2d;
import sdj.nn.GroupNorm;
import sdj.nn.Heads;
import sdj.nn.Params;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/** The VAE mid-block self-attention: single head over the H·W pixels with 1×1-conv q, k, v and proj_out. */
final class AttnBlock {
    private final String name;
    private final GroupNorm norm;
    private final Conv2d q;
    private final Conv2d k;
    private final Conv2d v;
    private final Conv2d projOut;

    AttnBlock(Params p, int ch, int groups) {
        this.name = p.moduleName();
        this.norm = new GroupNorm(p.sub("norm"), groups, ch, 1e-6f);
        this.q = p.conv2d("q", ch, ch, 1, 1, 0);
        this.k = p.conv2d("k", ch, ch, 1, 1, 0);
        this.v = p.conv2d("v", ch, ch, 1, 1, 0);
        this.projOut = p.conv2d("proj_out", ch, ch, 1, 1, 0);
    }

    Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            return compute(x);
        }
    }

    private Tensor compute(Tensor x) {
        int b = x.size(0);
        int c = x.size(1);
        int h = x.size(2);
        int w = x.size(3);
        Tensor n = norm.forward(x);
        Tensor attended = Heads.attend(tokens(q.forward(n)), tokens(k.forward(n)), tokens(v.forward(n)), 1, false);
        Tensor back = attended.transpose(1, 2).reshape(b, c, h, w);
        return x.add(projOut.forward(back));
    }

    private static Tensor tokens(Tensor t) {
        return t.reshape(t.size(0), t.size(1), -1).transpose(1, 2);
    }
}
