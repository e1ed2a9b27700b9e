package sdj.sd.pipeline;

import java.util.Arrays;
import sdj.sd.ModelConfigs;
import sdj.sd.unet.UNetConfig;
import sdj.sd.vae.VaeConfig;
import sdj.sd.vae.VaeTiling;

/**
 * What one CPU generation of a given size holds on the heap besides the weights, per stage, derived
 * from the model config: the largest single tensor (a Java float[] holds at most 2^31 − 1 elements,
 * and every CPU kernel indexes its tensors with ints) and the floats alive together at the stage's
 * peak. The counts follow the code path, block by block:
 * <ul>
 * <li>UNet (batch b = 2 × images for classifier-free guidance): the skip tensors of every input block
 * stay alive until their output block, plus the busiest block. A transformer level holds its residual,
 * the LayerNorm copy, the GEGLU projection [b, N, 8c] and its output [b, N, 4c] (14·c floats per token)
 * and one attention score block [256, N] per thread; a plain level's output ResBlock reads the skip
 * concatenation [b, 2c, h, w] and holds its norm copy and conv output (5·c per position).
 * <li>A ResnetBlock in → out holds max(2·in + out, in + 3·out) floats per pixel (input, norm copy and
 * conv1 output; or input, conv2 output, shortcut and sum); an upsample holds its nearest ×2 copy and
 * the conv output (2·c per output pixel) plus its input.
 * <li>VAE decode runs per image (batch 1); with tiling it sees one tile at a time plus the blended
 * output image and its weights (7 floats per pixel).
 * </ul>
 * The heap actually reached is higher (temporaries the GC has not collected yet), so this is a floor:
 * a size refused by it cannot run.
 */
public final class MemoryEstimate {
    /** Query rows per attention score block of the CPU kernel (CpuAttention.BLOCK). */
    static final int ATTENTION_BLOCK = 256;
    /** The CPU kernels' scratch buffers hold at most 2^30 floats (Scratch's size classes). */
    static final long SCRATCH_LIMIT = 1L << 30;
    /** Elements one Java array (one CPU tensor) can hold. */
    public static final long ARRAY_LIMIT = Integer.MAX_VALUE;

    /** One stage's largest tensor (its shape and what it is) and the floats alive at its peak. */
    public record Stage(String name, String largestWhat, long[] largestShape, long peakFloats, long limit) {
        public long largestElements() {
            return Arrays.stream(largestShape).reduce(1, Math::multiplyExact);
        }

        public boolean addressable() {
            return largestElements() <= limit;
        }

        public String shapeText() {
            return Arrays.toString(largestShape);
        }
    }

    private MemoryEstimate() {
    }

    /** The UNet call of one sampling step: {@code images} latents of h×w, doubled for guidance. */
    public static Stage[] unet(UNetConfig c, int h, int w, int images, int threads) {
        long b = 2L * images;
        int levels = c.channelMult().length;
        long skips = 0;
        long working = 0;
        String what = null;
        long[] shape = null;
        long largest = -1;
        Stage scores = null;
        for (int level = 0; level < levels; level++) {
            long lh = ceilDiv(h, 1 << level);
            long lw = ceilDiv(w, 1 << level);
            long n = lh * lw;
            long ch = (long) c.modelChannels() * c.channelMult()[level];
            skips += (level == 0 ? c.modelChannels() * n : 0) + c.numResBlocks() * ch * n;
            if (level < levels - 1) {
                skips += ch * ceilDiv(h, 2 << level) * ceilDiv(w, 2 << level);
            }
            long levelFloats;
            long[] levelShape;
            String levelWhat;
            if (c.attentionAt(1 << level)) {
                levelFloats = 14 * ch * n * b + (long) threads * ATTENTION_BLOCK * n;
                levelShape = new long[] {b, n, 8 * ch};
                levelWhat = "the UNet's feed-forward activation";
                if (scores == null) {
                    scores = new Stage("unet", "the UNet's attention score block", new long[] {ATTENTION_BLOCK, n}, 0,
                            SCRATCH_LIMIT);
                }
            } else {
                levelFloats = 5 * ch * n * b;
                levelShape = new long[] {b, 2 * ch, lh, lw};
                levelWhat = "the UNet's skip concatenation";
            }
            working = Math.max(working, levelFloats);
            long elements = levelShape[0] * levelShape[1] * levelShape[2] * (levelShape.length > 3 ? levelShape[3] : 1);
            if (elements > largest) {
                largest = elements;
                shape = levelShape;
                what = levelWhat;
            }
        }
        Stage main = new Stage("unet", what, shape, skips * b + working, ARRAY_LIMIT);
        return scores == null ? new Stage[] {main} : new Stage[] {main, scores};
    }

    /** VAE decode of one h×w latent (whole, or tile by tile). */
    public static Stage decoder(VaeConfig c, int h, int w, VaeTiling tiling, int threads) {
        long outH = 8L * h;
        long outW = 8L * w;
        long image = 3 * outH * outW;
        int th = tiling == null ? h : Math.min(h, tiling.tileLatent());
        int tw = tiling == null ? w : Math.min(w, tiling.tileLatent());
        int levels = c.chMult().length;
        long top = (long) c.ch() * c.chMult()[levels - 1];
        long latent = (long) th * tw;
        long peak = Math.max(4 * top * latent, 6 * top * latent + (long) threads * ATTENTION_BLOCK * latent);
        long[] shape = {1, top, th, tw};
        long largest = top * latent;
        for (int level = levels - 1; level >= 0; level--) {
            int scale = 1 << (levels - 1 - level);
            long lh = (long) th * scale;
            long lw = (long) tw * scale;
            long out = (long) c.ch() * c.chMult()[level];
            long in = level == levels - 1 ? top : (long) c.ch() * c.chMult()[level + 1];
            peak = Math.max(peak, resnetFloats(in, out) * lh * lw);
            if (in * lh * lw > largest) {
                largest = in * lh * lw;
                shape = new long[] {1, in, lh, lw};
            }
            if (level > 0) {
                peak = Math.max(peak, out * lh * lw + 2 * out * 4 * lh * lw);
                if (out * 4 * lh * lw > largest) {
                    largest = out * 4 * lh * lw;
                    shape = new long[] {1, out, 2 * lh, 2 * lw};
                }
            }
        }
        if (tiling != null) {
            peak += 7 * outH * outW;
        }
        if (image > largest) {
            shape = new long[] {1, 3, outH, outW};
        }
        String what = image > largest ? "the decoded image" : "the VAE decoder's activation";
        return new Stage("vae decode", what, shape, peak, ARRAY_LIMIT);
    }

    /** VAE encode of one image of H×W pixels (img2img). */
    public static Stage encoder(VaeConfig c, int height, int width) {
        long p = (long) height * width;
        long peak = (3L + c.ch()) * p;
        long[] shape = {1, c.ch(), height, width};
        long largest = c.ch() * p;
        long in = c.ch();
        for (int level = 0; level < c.chMult().length; level++) {
            long lp = ceilDiv(height, 1 << level) * ceilDiv(width, 1 << level);
            long out = (long) c.ch() * c.chMult()[level];
            peak = Math.max(peak, resnetFloats(in, out) * lp);
            if (out * lp > largest) {
                largest = out * lp;
                shape = new long[] {1, out, ceilDiv(height, 1 << level), ceilDiv(width, 1 << level)};
            }
            in = out;
        }
        return new Stage("vae encode", "the VAE encoder's activation", shape, peak, ARRAY_LIMIT);
    }

    /** Every stage of a request: UNet, decode, and encode when it starts from an image. */
    public static Stage[] stages(ModelConfigs c, GenerationRequest r, VaeTiling tiling, int threads) {
        int h = r.height() / 8;
        int w = r.width() / 8;
        Stage[] unet = unet(c.unet(), h, w, r.batchSize(), threads);
        Stage[] all = Arrays.copyOf(unet, unet.length + (r.initImage() == null ? 1 : 2));
        all[unet.length] = decoder(c.vae(), h, w, tiling, threads);
        if (r.initImage() != null) {
            all[unet.length + 1] = encoder(c.vae(), r.height(), r.width());
        }
        return all;
    }

    private static long resnetFloats(long in, long out) {
        return Math.max(2 * in + out, in + 3 * out);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
