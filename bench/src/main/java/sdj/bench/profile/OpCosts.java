package sdj.bench.profile;

import sdj.tensor.Tensor;

/**
 * FLOPs and bytes of one op, from shapes alone: a product counts 2 per multiply-add (conv
 * 2·N·Cout·Cin·kh·kw·Hout·Wout, matmul 2·M·N·K, attention its two GEMMs), everything else 1 per output
 * element; bytes are what the op reads and writes (inputs + outputs at their dtypes).
 */
final class OpCosts {
    private OpCosts() {
    }

    static double bytes(Tensor... tensors) {
        double b = 0;
        for (Tensor t : tensors) {
            if (t != null) {
                b += (double) t.numel() * t.dtype().byteSize;
            }
        }
        return b;
    }

    static double elements(Tensor t) {
        return t == null ? 0 : t.numel();
    }

    /** y [..., M, N] = a [..., M, K] · b: 2·(y's elements)·K. */
    static double matmul(Tensor a, Tensor y) {
        int[] s = a.shape();
        return 2.0 * y.numel() * s[s.length - 1];
    }

    /** y [..., out] = x [..., in] · Wᵀ: 2·(y's elements)·in. */
    static double linear(Tensor weight, Tensor y) {
        return 2.0 * y.numel() * weight.shape()[1];
    }

    /** y [N, Cout, Hout, Wout] from weight [Cout, Cin, kh, kw]: 2·(y's elements)·Cin·kh·kw. */
    static double conv(Tensor weight, Tensor y) {
        int[] w = weight.shape();
        return 2.0 * y.numel() * w[1] * w[2] * w[3];
    }

    /** The multiply-adds of one q·kᵀ-sized GEMM per unit of width: 2·(query rows)·Nk. */
    private static double attentionUnit(Tensor q, Tensor k) {
        int[] qs = q.shape();
        int[] ks = k.shape();
        return 2.0 * (q.numel() / qs[qs.length - 1]) * ks[ks.length - 2];
    }

    /** q·kᵀ and p·v: 2·rows·Nk·(d + dv), where the widths are over all heads together. */
    static double attention(Tensor q, Tensor k, Tensor v) {
        return attentionUnit(q, k) * (last(q) + last(v));
    }

    /** The CPU backward's five GEMMs: q·kᵀ again, dV = Pᵀ·dO, dP = dO·Vᵀ, dQ = dS·K, dK = dSᵀ·Q. */
    static double attentionBackward(Tensor q, Tensor k, Tensor v) {
        return attentionUnit(q, k) * (3.0 * last(q) + 2.0 * last(v));
    }

    private static int last(Tensor t) {
        int[] s = t.shape();
        return s[s.length - 1];
    }
}
