package sdj.sd.vae;

import java.util.ArrayList;
import java.util.List;
import sdj.nn.Conv2d;
import sdj.nn.GroupNorm;
import sdj.nn.Params;
import sdj.tensor.ActivationArena;
import sdj.tensor.Tensor;

/** VAE encoder: conv_in, down levels of ResnetBlocks with stride-2 downsamples, mid block, norm, conv_out. */
final class Encoder {
    private final Conv2d convIn;
    private final List<List<ResnetBlock>> downBlocks = new ArrayList<>();
    private final List<Downsample> downsamples = new ArrayList<>();
    private final ResnetBlock midBlock1;
    private final AttnBlock midAttn;
    private final ResnetBlock midBlock2;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Encoder(Params p, VaeConfig c) {
        this.convIn = p.conv2d("conv_in", c.inChannels(), c.ch(), 3, 1, 1);
        int blockIn = c.ch();
        for (int level = 0; level < c.chMult().length; level++) {
            Params down = p.sub("down").sub(level);
            int blockOut = c.ch() * c.chMult()[level];
            List<ResnetBlock> blocks = new ArrayList<>();
            for (int i = 0; i < c.numResBlocks(); i++) {
                blocks.add(new ResnetBlock(down.sub("block").sub(i), blockIn, blockOut, c.normNumGroups()));
                blockIn = blockOut;
            }
            downBlocks.add(blocks);
            downsamples.add(level == c.chMult().length - 1 ? null : new Downsample(down.sub("downsample"), blockIn));
        }
        this.midBlock1 = new ResnetBlock(p.sub("mid").sub("block_1"), blockIn, blockIn, c.normNumGroups());
        this.midAttn = new AttnBlock(p.sub("mid").sub("attn_1"), blockIn, c.normNumGroups());
        this.midBlock2 = new ResnetBlock(p.sub("mid").sub("block_2"), blockIn, blockIn, c.normNumGroups());
        this.normOut = new GroupNorm(p.sub("norm_out"), c.normNumGroups(), blockIn, 1e-6f);
        this.convOut = p.conv2d("conv_out", blockIn, c.doubleZ() ? 2 * c.zChannels() : c.zChannels(), 3, 1, 1);
    }

    Tensor forward(Tensor x) {
        try (var arena = ActivationArena.open()) {
            Tensor h = LayerChain.step(convIn::forward, x);
            for (int level = 0; level < downBlocks.size(); level++) {
                for (ResnetBlock b : downBlocks.get(level)) {
                    h = LayerChain.step(b::forward, h);
                }
                Downsample down = downsamples.get(level);
                if (down != null) {
                    h = LayerChain.resample(down::forward, h);
                }
            }
            h = LayerChain.step(midBlock1::forward, h);
            h = LayerChain.step(midAttn::forward, h);
            h = LayerChain.step(midBlock2::forward, h);
            return arena.keep(LayerChain.step(y -> convOut.forward(normOut.forwardSilu(y)), h));
        }
    }
}
