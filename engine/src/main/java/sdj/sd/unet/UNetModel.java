package sdj.sd.unet;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import sdj.nn.Conv2d;
import sdj.nn.GroupNorm;
import sdj.nn.Linear;
import sdj.nn.Params;
import sdj.ops.Join;
import sdj.ops.Unary;
import sdj.tensor.ActivationArena;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/**
 * The SD v1 denoiser, CompVis {@code UNetModel} under {@code model.diffusion_model.*}: a timestep
 * embedding MLP, input blocks (res blocks + spatial transformers, three stride-2 downsamples), a
 * middle block, and output blocks that concatenate the matching input-block activations and
 * upsample (nearest ×2 + conv). Predicts the noise ε of x_t.
 */
public final class UNetModel {
    public static final String PREFIX = "model.diffusion_model";

    private final UNetConfig config;
    private final String name;
    private final Linear timeEmbed0;
    private final Linear timeEmbed2;
    private final List<List<TimestepBlock>> inputBlocks = new ArrayList<>();
    private final List<TimestepBlock> middleBlock = new ArrayList<>();
    private final List<List<TimestepBlock>> outputBlocks = new ArrayList<>();
    private final GroupNorm outNorm;
    private final Conv2d outConv;

    public UNetModel(Params p, UNetConfig c) {
        this.config = c;
        this.name = p.moduleName();
        int mc = c.modelChannels();
        int ted = c.timeEmbedDim();
        this.timeEmbed0 = p.sub("time_embed").linear("0", mc, ted, true);
        this.timeEmbed2 = p.sub("time_embed").linear("2", ted, ted, true);

        Params in = p.sub("input_blocks");
        List<Integer> skipChannels = new ArrayList<>();
        Conv2d convIn = in.sub(0).conv2d("0", c.inChannels(), mc, 3, 1, 1);
        inputBlocks.add(List.of((x, e, ctx) -> convIn.forward(x)));
        skipChannels.add(mc);
        int ch = mc;
        int ds = 1;
        for (int level = 0; level < c.channelMult().length; level++) {
            for (int r = 0; r < c.numResBlocks(); r++) {
                Params blk = in.sub(inputBlocks.size());
                List<TimestepBlock> layers = new ArrayList<>();
                int out = c.channelMult()[level] * mc;
                layers.add(new ResBlock(blk.sub(0), ch, ted, out));
                ch = out;
                if (c.attentionAt(ds)) {
                    layers.add(transformer(blk.sub(1), ch));
                }
                inputBlocks.add(layers);
                skipChannels.add(ch);
            }
            if (level != c.channelMult().length - 1) {
                inputBlocks.add(List.of(new Downsample(in.sub(inputBlocks.size()).sub(0), ch)));
                skipChannels.add(ch);
                ds *= 2;
            }
        }

        Params mid = p.sub("middle_block");
        middleBlock.add(new ResBlock(mid.sub(0), ch, ted, ch));
        middleBlock.add(transformer(mid.sub(1), ch));
        middleBlock.add(new ResBlock(mid.sub(2), ch, ted, ch));

        Params outP = p.sub("output_blocks");
        for (int level = c.channelMult().length - 1; level >= 0; level--) {
            for (int i = 0; i <= c.numResBlocks(); i++) {
                Params blk = outP.sub(outputBlocks.size());
                List<TimestepBlock> layers = new ArrayList<>();
                int skipCh = skipChannels.remove(skipChannels.size() - 1);
                int out = mc * c.channelMult()[level];
                layers.add(new ResBlock(blk.sub(0), ch + skipCh, ted, out));
                ch = out;
                if (c.attentionAt(ds)) {
                    layers.add(transformer(blk.sub(1), ch));
                }
                if (level > 0 && i == c.numResBlocks()) {
                    layers.add(new Upsample(blk.sub(layers.size()), ch));
                    ds /= 2;
                }
                outputBlocks.add(layers);
            }
        }
        this.outNorm = new GroupNorm(p.sub("out").sub(0), 32, ch, 1e-5f);
        this.outConv = p.sub("out").conv2d("2", mc, c.outChannels(), 3, 1, 1);
    }

    private SpatialTransformer transformer(Params p, int ch) {
        return new SpatialTransformer(p, ch, config.headsAt(ch), config.transformerDepth(), config.contextDim());
    }

    public UNetConfig config() {
        return config;
    }

    /**
     * Activation checkpointing for training: each ResBlock and each transformer block keeps only its
     * inputs while grad is recorded and recomputes the rest in backward (the gradients are unchanged).
     * Off by default; without grad recording (sampling) it changes nothing.
     */
    public void setGradientCheckpointing(boolean on) {
        List<TimestepBlock> layers = new ArrayList<>(middleBlock);
        inputBlocks.forEach(layers::addAll);
        outputBlocks.forEach(layers::addAll);
        for (TimestepBlock layer : layers) {
            if (layer instanceof ResBlock res) {
                res.setCheckpointed(on);
            } else if (layer instanceof SpatialTransformer transformer) {
                transformer.setCheckpointed(on);
            }
        }
    }

    /**
     * Custom Diffusion's cross-attention rule (adobe {@code new_forward}, diffusers'
     * {@code CustomDiffusionAttnProcessor}): in every attn2 the key and value rows of context position 0
     * (the start token) are detached, k = m⊙k + (1−m)⊙stopgrad(k) with m = 0 at position 0. Forward values
     * are bit-identical; only the to_k/to_v (and context) gradients lose that position's term. Off by default.
     */
    public void setDetachStartTokenKeyValue(boolean on) {
        List<TimestepBlock> layers = new ArrayList<>(middleBlock);
        inputBlocks.forEach(layers::addAll);
        outputBlocks.forEach(layers::addAll);
        for (TimestepBlock layer : layers) {
            if (layer instanceof SpatialTransformer transformer) {
                transformer.setDetachStartTokenKeyValue(on);
            }
        }
    }

    /**
     * ε prediction for latents x [B, C, H, W] at (possibly fractional) timesteps t [B] with text
     * context [B, N, contextDim].
     */
    public Tensor forward(Tensor x, float[] timesteps, Tensor context) {
        try (var profiled = Profiling.module(name); var arena = ActivationArena.open()) {
            return arena.keep(compute(x, timesteps, context));
        }
    }

    private Tensor compute(Tensor x, float[] timesteps, Tensor context) {
        Tensor emb = timeEmbed2.forward(Unary.silu(timeEmbed0.forward(
                TimestepEmbedding.sinusoidal(timesteps, config.modelChannels()).to(x.device()))));
        Deque<Tensor> skips = new ArrayDeque<>();
        Tensor h = x;
        for (List<TimestepBlock> block : inputBlocks) {
            h = run(block, h, emb, context);
            skips.push(h);
        }
        h = run(middleBlock, h, emb, context);
        for (List<TimestepBlock> block : outputBlocks) {
            Tensor skip = skips.pop();
            try (var arena = ActivationArena.open()) { // the concatenation is recycled once the block has read it
                h = arena.keep(run(block, Join.cat(List.of(h, skip), 1), emb, context));
            }
        }
        return outConv.forward(Unary.silu(outNorm.forward(h)));
    }

    /** Each layer in its own arena scope: only its output outlives it, the rest is reused by the next layer. */
    private static Tensor run(List<TimestepBlock> layers, Tensor h, Tensor emb, Tensor context) {
        for (TimestepBlock layer : layers) {
            try (var arena = ActivationArena.open()) {
                h = arena.keep(layer.forward(h, emb, context));
            }
        }
        return h;
    }
}
