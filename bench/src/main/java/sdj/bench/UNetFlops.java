package sdj.bench;

import sdj.sd.unet.UNetConfig;

/**
 * Counts the multiply-add FLOPs of one UNet forward (convolutions, linear layers, attention
 * products; norms and elementwise work are ignored, < 1%). Walks the same block layout as UNetModel.
 */
public final class UNetFlops {
    private UNetFlops() {
    }

    public static double count(UNetConfig c, int latent, int batch) {
        double f = 0;
        int mc = c.modelChannels();
        int ted = c.timeEmbedDim();
        f += 2.0 * (mc * ted + ted * ted);
        int size = latent;
        f += conv(c.inChannels(), mc, 3, size);
        java.util.List<Integer> skips = new java.util.ArrayList<>();
        skips.add(mc);
        int ch = mc;
        int ds = 1;
        for (int level = 0; level < c.channelMult().length; level++) {
            for (int r = 0; r < c.numResBlocks(); r++) {
                int out = c.channelMult()[level] * mc;
                f += res(ch, out, ted, size);
                ch = out;
                if (c.attentionAt(ds)) {
                    f += transformer(ch, c.contextDim(), size * size, c.transformerDepth());
                }
                skips.add(ch);
            }
            if (level != c.channelMult().length - 1) {
                size /= 2;
                f += conv(ch, ch, 3, size);
                skips.add(ch);
                ds *= 2;
            }
        }
        f += 2 * res(ch, ch, ted, size) + transformer(ch, c.contextDim(), size * size, c.transformerDepth());
        for (int level = c.channelMult().length - 1; level >= 0; level--) {
            for (int i = 0; i <= c.numResBlocks(); i++) {
                int out = mc * c.channelMult()[level];
                f += res(ch + skips.remove(skips.size() - 1), out, ted, size);
                ch = out;
                if (c.attentionAt(ds)) {
                    f += transformer(ch, c.contextDim(), size * size, c.transformerDepth());
                }
                if (level > 0 && i == c.numResBlocks()) {
                    size *= 2;
                    f += conv(ch, ch, 3, size);
                    ds /= 2;
                }
            }
        }
        f += conv(mc, c.outChannels(), 3, size);
        return f * batch;
    }

    private static double conv(int in, int out, int k, int size) {
        return 2.0 * in * out * k * k * size * size;
    }

    private static double res(int in, int out, int ted, int size) {
        return conv(in, out, 3, size) + conv(out, out, 3, size) + 2.0 * ted * out + (in == out ? 0 : conv(in, out, 1, size));
    }

    private static double transformer(int ch, int ctx, int tokens, int depth) {
        double f = 2 * conv(ch, ch, 1, (int) Math.sqrt(tokens)); // proj_in, proj_out
        double block = 0;
        block += 2.0 * tokens * ch * ch * 4; // attn1 q, k, v, out
        block += 4.0 * tokens * tokens * ch; // attn1 scores and weighted sum
        block += 2.0 * tokens * ch * ch * 2 + 2.0 * 77 * ctx * ch * 2; // attn2 q, out + k, v on the context
        block += 4.0 * tokens * 77 * ch; // attn2 products
        block += 2.0 * tokens * ch * 8 * ch + 2.0 * tokens * 4 * ch * ch; // GEGLU in (→ 8ch) and out (4ch →)
        return f + depth * block;
    }
}
