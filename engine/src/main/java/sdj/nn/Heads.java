package sdj.nn;

import sdj.backend.cuda.CudaDispatch;
import sdj.ops.Attention;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** Splitting [B, N, H·d] into heads [B, H, N, d] and back, around scaled dot-product attention. */
public final class Heads {
    private Heads() {
    }

    public static Tensor split(Tensor x, int heads) {
        int b = x.size(0);
        int n = x.size(1);
        int d = x.size(2) / heads;
        return x.reshape(b, n, heads, d).permute(0, 2, 1, 3).contiguous();
    }

    public static Tensor merge(Tensor x) {
        int b = x.size(0);
        int h = x.size(1);
        int n = x.size(2);
        int d = x.size(3);
        return x.permute(0, 2, 1, 3).reshape(b, n, h * d);
    }

    private static void requireHeadShapes(Tensor q, Tensor k, Tensor v, int heads) {
        boolean ok = q.dim() == 3 && k.dim() == 3 && v.dim() == 3 && q.size(0) == k.size(0) && k.size(0) == v.size(0)
                && q.size(2) == k.size(2) && k.size(1) == v.size(1) && q.size(2) % heads == 0 && v.size(2) % heads == 0;
        if (!ok) {
            throw new IllegalArgumentException("attention over " + heads + " heads needs q, k [B, Nq|Nk, H·d] and v [B, Nk, H·e], got q "
                    + Shape.str(q.shape()) + ", k " + Shape.str(k.shape()) + ", v " + Shape.str(v.shape()));
        }
    }

    /** softmax(q·kᵀ/√d)·v over heads for q [B, Nq, H·d], k/v [B, Nk, H·d]; returns [B, Nq, H·d]. */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, int heads, boolean causal) {
        if (q.isCuda() || k.isCuda() || v.isCuda()) {
            // the CPU path checks these in Attention.sdpa after the split
            requireHeadShapes(q, k, v, heads);
            if (causal) {
                Attention.requireSquareMask(q, k, 1);
            }
            return CudaDispatch.attendHeads(q, k, v, heads, causal); // heads read through strides, no copies
        }
        return merge(Attention.sdpa(split(q, heads), split(k, heads), split(v, heads), causal));
    }
}
