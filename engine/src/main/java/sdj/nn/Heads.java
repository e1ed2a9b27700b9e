package sdj.nn;

import sdj.ops.Attention;
import sdj.tensor.Tensor;

/** Multi-head attention on [B, N, H·d] projections (the heads are read through strides, no split copies). */
public final class Heads {
    private Heads() {
    }

    /** softmax(q·kᵀ/√d)·v over heads for q [B, Nq, H·d], k/v [B, Nk, H·d]; returns [B, Nq, H·d]. */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, int heads, boolean causal) {
        return Attention.attendHeads(q, k, v, heads, causal);
    }
}
