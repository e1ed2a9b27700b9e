package sdj.sd.vae;

import java.util.ArrayList;
import java.util.List;
import sdj.nn.Conv2d;
import sdj.nn.GroupNorm;
import sdj.nn.Params;
import sdj.tensor.ActivationArena;
import sdj.tensor.Tensor;

/** VAE decoder: conv_in, mid block, up levels (deepest first) of ResnetBlocks with nearest ×2 + conv upsamples. */
final class Decoder {
    private final Conv2d convIn;
    private final ResnetBlock midBlock1;
    private final AttnBlock midAttn;
    private final ResnetBlock midBlock2;
    /** Indexed by level as in the checkpoint ({@code up.0} is the full-resolution level). */
    private final List<List<ResnetBlock>> upBlocks = new ArrayList<>();
    private final List<Upsample> upsamples = new ArrayList<>();
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Decoder(Params p, VaeConfig c) {
        int levels = c.chMult().length;
        int blockIn = c.ch() * c.chMult()[levels - 1];
        this.convIn = p.conv2d("conv_in", c.zChannels(), blockIn, 3, 1, 1);
        this.midBlock1 = new ResnetBlock(p.sub("mid").sub("block_1"), blockIn, blockIn, c.normNumGroups());
        this.midAttn = new AttnBlock(p.sub("mid").sub("attn_1"), blockIn, c.normNumGroups());
        this.midBlock2 = new ResnetBlock(p.sub("mid").sub("block_2"), blockIn, blockIn, c.normNumGroups());
        for (int i = 0; i < levels; i++) {
            upBlocks.add(null);
            upsamples.add(null);
        }
        for (int level = levels - 1; level >= 0; level--) {
            Params up = p.sub("up").sub(level);
            int blockOut = c.ch() * c.chMult()[level];
            List<ResnetBlock> blocks = new ArrayList<>();
            for (int i = 0; i <= c.numResBlocks(); i++) {
                blocks.add(new ResnetBlock(up.sub("block").sub(i), blockIn, blockOut, c.normNumGroups()));
                blockIn = blockOut;
            }
            upBlocks.set(level, blocks);
            upsamples.set(level, level == 0 ? null : new Upsample(up.sub("upsample"), blockIn));
        }
        this.normOut = new GroupNorm(p.sub("norm_out"), c.normNumGroups(), blockIn, 1e-6f);
        this.convOut = p.conv2d("conv_out", blockIn, c.outChannels(), 3, 1, 1);
    }

    Tensor forward(Tensor z) {
        try (var arena = ActivationArena.open()) {
            Tensor h = LayerChain.step(convIn::forward, z);
            h = LayerChain.step(midBlock1::forward, h);
            h = LayerChain.step(midAttn::forward, h);
            h = LayerChain.step(midBlock2::forward, h);
            for (int level = upBlocks.size() - 1; level >= 0; level--) {
                for (ResnetBlock b : upBlocks.get(level)) {
                    h = LayerChain.step(b::forward, h);
                }
                Upsample up = upsamples.get(level);
                if (up != null) {
                    h = LayerChain.resample(up::forward, h);
                }
            }
            return arena.keep(LayerChain.step(x -> convOut.forward(normOut.forwardSilu(x)), h));
        }
    }
}
