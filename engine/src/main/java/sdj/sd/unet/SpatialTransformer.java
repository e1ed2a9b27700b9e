package sdj.sd.unet;

import java.util.ArrayList;
import java.util.List;
import sdj.nn.Conv2d;
import sdj.nn.GroupNorm;
import sdj.nn.Heads;
import sdj.nn.LayerNorm;
import sdj.nn.Linear;
import sdj.nn.Params;
import sdj.ops.F;
import sdj.tensor.ActivationArena;
import sdj.tensor.Autograd;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/**
 * CompVis SpatialTransformer (SD v1 form): GroupNorm(32, eps 1e-6) → proj_in 1×1 conv → tokens
 * [B, H·W, C] → BasicTransformerBlocks (self-attention, cross-attention on the text context,
 * GEGLU feed-forward, each pre-LayerNorm and residual) → proj_out 1×1 conv → + input.
 */
final class SpatialTransformer implements TimestepBlock {
    private final String name;
    private final GroupNorm norm;
    private final Conv2d projIn;
    private final List<BasicTransformerBlock> blocks = new ArrayList<>();
    private final Conv2d projOut;

    SpatialTransformer(Params p, int channels, int heads, int depth, int contextDim) {
        this.name = p.moduleName();
        this.norm = new GroupNorm(p.sub("norm"), 32, channels, 1e-6f);
        this.projIn = p.conv2d("proj_in", channels, channels, 1, 1, 0);
        for (int i = 0; i < depth; i++) {
            blocks.add(new BasicTransformerBlock(p.sub("transformer_blocks").sub(i), channels, heads, contextDim));
        }
        this.projOut = p.conv2d("proj_out", channels, channels, 1, 1, 0);
    }

    /** Checkpoints each transformer block (CompVis {@code BasicTransformerBlock(checkpoint=True)}). */
    void setCheckpointed(boolean on) {
        for (BasicTransformerBlock block : blocks) {
            block.checkpointed = on;
        }
    }

    /** See {@link UNetModel#setDetachStartTokenKeyValue}: attn2 only; self-attention is unchanged. */
    void setDetachStartTokenKeyValue(boolean on) {
        for (BasicTransformerBlock block : blocks) {
            block.attn2.detachStartTokenKeyValue = on;
        }
    }

    @Override
    public Tensor forward(Tensor x, Tensor emb, Tensor context) {
        try (var profiled = Profiling.module(name)) {
            return compute(x, context);
        }
    }

    private Tensor compute(Tensor x, Tensor context) {
        int b = x.size(0);
        int c = x.size(1);
        int h = x.size(2);
        int w = x.size(3);
        Tensor t = projIn.forward(norm.forward(x)).reshape(b, c, h * w).transpose(1, 2).contiguous();
        for (BasicTransformerBlock block : blocks) {
            t = block.forward(t, context);
        }
        Tensor back = t.transpose(1, 2).reshape(b, c, h, w);
        return projOut.forward(back).add(x);
    }

    /** attn1 (self), attn2 (cross), ff (GEGLU), each behind its LayerNorm with a residual. */
    static final class BasicTransformerBlock {
        private final CrossAttention attn1;
        private final CrossAttention attn2;
        private final LayerNorm norm1;
        private final LayerNorm norm2;
        private final LayerNorm norm3;
        private final Linear ffIn;
        private final Linear ffOut;
        private boolean checkpointed;
        private final String name;

        BasicTransformerBlock(Params p, int dim, int heads, int contextDim) {
            this.name = p.moduleName();
            this.attn1 = new CrossAttention(p.sub("attn1"), dim, dim, heads);
            this.attn2 = new CrossAttention(p.sub("attn2"), dim, contextDim, heads);
            this.norm1 = new LayerNorm(p.sub("norm1"), dim, 1e-5f);
            this.norm2 = new LayerNorm(p.sub("norm2"), dim, 1e-5f);
            this.norm3 = new LayerNorm(p.sub("norm3"), dim, 1e-5f);
            int inner = 4 * dim;
            this.ffIn = p.sub("ff").sub("net").sub(0).linear("proj", dim, 2 * inner, true);
            this.ffOut = p.sub("ff").sub("net").linear("2", inner, dim, true);
        }

        Tensor forward(Tensor x, Tensor context) {
            try (var profiled = Profiling.module(name); var arena = ActivationArena.open()) {
                return arena.keep(checkpointed ? Autograd.checkpoint(in -> compute(in[0], in[1]), x, context)
                        : compute(x, context));
            }
        }

        private Tensor compute(Tensor x, Tensor context) {
            Tensor h = norm1.forward(x);
            x = x.add(attn1.forward(h, h));
            x = x.add(attn2.forward(norm2.forward(x), context));
            return x.add(ffOut.forward(F.geglu(ffIn.forward(norm3.forward(x)))));
        }
    }

    /** Multi-head attention with bias-free q/k/v projections and a biased output projection (to_out.0). */
    static final class CrossAttention {
        final Linear toQ;
        final Linear toK;
        final Linear toV;
        final Linear toOut;
        private final int heads;
        boolean detachStartTokenKeyValue;
        private final String name;

        CrossAttention(Params p, int queryDim, int contextDim, int heads) {
            this.name = p.moduleName();
            this.toQ = p.linear("to_q", queryDim, queryDim, false);
            this.toK = p.linear("to_k", contextDim, queryDim, false);
            this.toV = p.linear("to_v", contextDim, queryDim, false);
            this.toOut = p.sub("to_out").linear("0", queryDim, queryDim, true);
            this.heads = heads;
        }

        Tensor forward(Tensor x, Tensor context) {
            try (var profiled = Profiling.module(name); var arena = ActivationArena.open()) {
                Tensor k = toK.forward(context);
                Tensor v = toV.forward(context);
                if (detachStartTokenKeyValue && Autograd.willRecord(k, v)) {
                    k = StartTokenDetach.apply(k);
                    v = StartTokenDetach.apply(v);
                }
                return arena.keep(toOut.forward(Heads.attend(toQ.forward(x), k, v, heads, false)));
            }
        }
    }
}
