package sdj.sd.unet;

import sdj.nn.Conv2d;
import sdj.nn.GroupNorm;
import sdj.nn.Linear;
import sdj.nn.Params;
import sdj.ops.Unary;
import sdj.tensor.Autograd;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/**
 * CompVis ResBlock: in_layers (GroupNorm32, SiLU, conv3×3) + the projected time embedding,
 * out_layers (GroupNorm32, SiLU, dropout, conv3×3), plus a 1×1 skip conv when channels change.
 */
final class ResBlock implements TimestepBlock {
    private final String name;
    private final GroupNorm inNorm;
    private final Conv2d inConv;
    private final Linear embLinear;
    private final GroupNorm outNorm;
    private final Conv2d outConv;
    private final Conv2d skip;
    private boolean checkpointed;

    ResBlock(Params p, int channels, int embDim, int outChannels) {
        this.name = p.moduleName();
        this.inNorm = new GroupNorm(p.sub("in_layers").sub(0), 32, channels, 1e-5f);
        this.inConv = p.sub("in_layers").conv2d("2", channels, outChannels, 3, 1, 1);
        this.embLinear = p.sub("emb_layers").linear("1", embDim, outChannels, true);
        this.outNorm = new GroupNorm(p.sub("out_layers").sub(0), 32, outChannels, 1e-5f);
        this.outConv = p.sub("out_layers").conv2d("3", outChannels, outChannels, 3, 1, 1);
        this.skip = channels == outChannels ? null : p.conv2d("skip_connection", channels, outChannels, 1, 1, 0);
    }

    /** CompVis {@code use_checkpoint}: recompute this block's activations in backward instead of keeping them. */
    void setCheckpointed(boolean on) {
        checkpointed = on;
    }

    @Override
    public Tensor forward(Tensor x, Tensor emb, Tensor context) {
        try (var profiled = Profiling.module(name)) {
            return checkpointed ? Autograd.checkpoint(in -> compute(in[0], in[1]), x, emb) : compute(x, emb);
        }
    }

    private Tensor compute(Tensor x, Tensor emb) {
        Tensor h = inConv.forward(inNorm.forwardSilu(x));
        Tensor e = embLinear.forward(Unary.silu(emb)); // [B, out]
        h = h.add(e.unsqueeze(-1).unsqueeze(-1));
        h = outConv.forward(outNorm.forwardSilu(h));
        return (skip == null ? x : skip.forward(x)).add(h);
    }
}
