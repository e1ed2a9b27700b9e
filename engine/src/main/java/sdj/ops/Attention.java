package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Scaled dot-product attention softmax(q·kᵀ·scale [+ causal mask])·v, over [B, H, N, d] tensors
 * ({@link #sdpa}) or straight on the [B, N, H·d] projections ({@link #attendHeads}). Both backends
 * avoid keeping the N×N probabilities for backward (the CPU recomputes them block by block, the GPU
 * keeps the log-sum-exp).
 */
public final class Attention {
    private Attention() {
    }

    /**
     * Causal masks need Nq == Nk (the token axis is {@code tokenDim}): libraries disagree on where the
     * diagonal goes otherwise (PyTorch: top left, flash-attn: bottom right), and SD only masks CLIP's
     * self-attention, so both devices refuse rather than pick one silently.
     */
    public static void requireSquareMask(Tensor q, Tensor k, int tokenDim) {
        if (q.size(tokenDim) != k.size(tokenDim)) {
            throw new IllegalArgumentException("causal attention needs as many keys as queries, got q "
                    + Shape.str(q.shape()) + " and k " + Shape.str(k.shape()));
        }
    }

    public static Tensor sdpa(Tensor q, Tensor k, Tensor v, boolean causal) {
        return sdpa(q, k, v, causal, (float) (1.0 / Math.sqrt(q.size(-1))));
    }

    public static Tensor sdpa(Tensor q, Tensor k, Tensor v, boolean causal, float scale) {
        int[] qs = q.shape();
        int[] ks = k.shape();
        int[] vs = v.shape();
        if (qs.length != 4 || ks.length != 4 || vs.length != 4 || qs[3] != ks[3] || ks[2] != vs[2] || qs[0] != ks[0]
                || qs[1] != ks[1] || vs[0] != qs[0] || vs[1] != qs[1]) {
            throw new IllegalArgumentException("attention shapes q " + Shape.str(qs) + ", k " + Shape.str(ks) + ", v "
                    + Shape.str(vs) + " do not fit [B, H, N, d]");
        }
        if (causal) {
            requireSquareMask(q, k, 2);
        }
        return attention(q, k, v, 0, causal, scale);
    }

    /** softmax(q·kᵀ/√d)·v over heads for q [B, Nq, H·d], k [B, Nk, H·d], v [B, Nk, H·e]; returns [B, Nq, H·e]. */
    public static Tensor attendHeads(Tensor q, Tensor k, Tensor v, int heads, boolean causal) {
        boolean ok = heads > 0 && q.dim() == 3 && k.dim() == 3 && v.dim() == 3 && q.size(0) == k.size(0)
                && k.size(0) == v.size(0) && q.size(2) == k.size(2) && k.size(1) == v.size(1) && q.size(2) % heads == 0
                && v.size(2) % heads == 0;
        if (!ok) {
            throw new IllegalArgumentException("attention over " + heads + " heads needs q, k [B, Nq|Nk, H·d] and v [B, Nk, H·e], got q "
                    + Shape.str(q.shape()) + ", k " + Shape.str(k.shape()) + ", v " + Shape.str(v.shape()));
        }
        if (causal) {
            requireSquareMask(q, k, 1);
        }
        return attention(q, k, v, heads, causal, (float) (1.0 / Math.sqrt(q.size(2) / heads)));
    }

    private static Tensor attention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale) {
        Backend backend = Backends.of("attention", q, k, v);
        Tensor[] inputs = {q, k, v};
        return Grads.record("attention", inputs,
                backend.attention(q, k, v, heads, causal, scale, Autograd.willRecord(inputs)));
    }
}
