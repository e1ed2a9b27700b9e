package sdj.nn;

import sdj.backend.cuda.CudaDispatch;
import sdj.ops.Attention;
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

    /** softmax(q·kᵀ/√d)·v over heads for q [B, Nq, H·d], k/v [B, Nk, H·d]; returns [B, Nq, H·d]. */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, int heads, boolean causal) {
        if (q.isCuda() || k.isCuda() || v.isCuda()) {
            return CudaDispatch.attendHeads(q, k, v, heads, causal); // heads read through strides, no copies
        }
        return merge(Attention.sdpa(split(q, heads), split(k, heads), split(v, heads), causal));
    }
}
