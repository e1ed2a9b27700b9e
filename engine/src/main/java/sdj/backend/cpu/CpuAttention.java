package sdj.backend.cpu;

import sdj.tensor.ActivationArena;
import sdj.tensor.Backend;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Scaled dot-product attention softmax(q·kᵀ·scale [+ causal mask])·v for q [B, H, Nq, d],
 * k [B, H, Nk, d], v [B, H, Nk, dv]. Queries are processed in blocks of {@link #BLOCK} rows, so only
 * a BLOCK×Nk slice of one head's score matrix exists at a time per thread (4 MiB at 4096 tokens);
 * backward recomputes the probabilities block by block instead of storing them, from each row's maximum and
 * 1/Σ kept by the forward (one pass over the scores instead of three).
 */
final class CpuAttention {
    static final int BLOCK = 256;

    private CpuAttention() {
    }

    static Backend.Result attention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale,
            boolean keep) {
        if (heads == 0) {
            return sdpa(q, k, v, causal, scale, keep);
        }
        // [B, N, H·d] projections: heads split into contiguous [B, H, N, d] copies and merged back
        Backend.Result r = sdpa(split(q, heads), split(k, heads), split(v, heads), causal, scale, keep);
        Tensor y = merge(r.out());
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, g -> {
            Tensor[] grads = r.gradients().of(split(g, heads));
            for (int i = 0; i < grads.length; i++) {
                grads[i] = grads[i] == null ? null : merge(grads[i]);
            }
            return grads;
        });
    }

    private static Tensor split(Tensor x, int heads) {
        int b = x.size(0);
        int n = x.size(1);
        Tensor heads4 = x.reshape(b, n, heads, x.size(2) / heads).permute(0, 2, 1, 3);
        return Tensor.of(heads4.copyInto(ActivationArena.floats(Math.toIntExact(x.numel()))), b, heads, n,
                x.size(2) / heads);
    }

    private static Tensor merge(Tensor x) {
        int b = x.size(0);
        int h = x.size(1);
        int n = x.size(2);
        int d = x.size(3);
        float[] merged = x.permute(0, 2, 1, 3).copyInto(ActivationArena.floats(Math.toIntExact(x.numel())));
        return Tensor.of(merged, b, n, h * d);
    }

    private static Backend.Result sdpa(Tensor q, Tensor k, Tensor v, boolean causal, float scale, boolean keep) {
        int[] qs = q.shape();
        int[] ks = k.shape();
        int[] vs = v.shape();
        Dims dm = new Dims(qs[0] * qs[1], qs[2], ks[2], qs[3], vs[3], causal, scale);
        float[] qv = q.floats();
        float[] kv = k.floats();
        float[] vv = v.floats();
        float[] out = ActivationArena.floats(dm.heads * dm.nq * dm.dv);
        int qBlocks = (dm.nq + BLOCK - 1) / BLOCK;
        // each query row's score maximum and 1/Σ exp, for the backward
        float[] rowMax = keep ? new float[dm.heads * dm.nq] : null;
        float[] rowInvSum = keep ? new float[dm.heads * dm.nq] : null;
        // every head's Kᵀ and V in the products' panel layout, packed once for all its query blocks
        PackedPanels kPanels = new PackedPanels(dm.d, dm.nk);
        PackedPanels vPanels = new PackedPanels(dm.nk, dm.dv);
        float[] kPacked = Scratch.take(dm.heads * kPanels.size());
        float[] vPacked = Scratch.take(dm.heads * vPanels.size());
        Parallel.range(dm.heads, 2L * dm.nk * (dm.d + dm.dv), (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                packKeys(dm, kv, h, kPanels, kPacked, h * kPanels.size());
                vPanels.pack(Gemm.Operand.rowMajor(vv, h * dm.nk * dm.dv, dm.dv), vPacked, h * vPanels.size());
            }
        });
        Parallel.range(dm.heads * qBlocks, 2L * BLOCK * dm.nk * (dm.d + dm.dv), (t0, t1) -> {
            float[] scores = Scratch.take(BLOCK * dm.nk);
            float[] invSum = new float[BLOCK];
            float[] max = new float[BLOCK];
            for (int t = t0; t < t1; t++) {
                int h = t / qBlocks;
                int q0 = (t % qBlocks) * BLOCK;
                int rows = Math.min(BLOCK, dm.nq - q0);
                expScores(dm, qv, kPanels, kPacked, h * kPanels.size(), h, q0, rows, scores, invSum, max);
                if (keep) {
                    System.arraycopy(max, 0, rowMax, h * dm.nq + q0, rows);
                    System.arraycopy(invSum, 0, rowInvSum, h * dm.nq + q0, rows);
                }
                int outOff = (h * dm.nq + q0) * dm.dv;
                vPanels.multiply(rows, Gemm.Operand.rowMajor(scores, 0, dm.nk), vPacked, h * vPanels.size(), out,
                        outOff, dm.dv);
                // normalising the dv-wide output rows instead of the nk-wide score rows: softmax's division
                // costs nk/dv (~100) times less
                scaleRows(out, outOff, rows, dm.dv, invSum);
            }
            Scratch.give(scores);
        });
        Scratch.give(kPacked);
        Scratch.give(vPacked);
        Tensor y = Tensor.of(out, qs[0], qs[1], dm.nq, dm.dv);
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, gy -> backward(dm, gy, q, k, v, qv, kv, vv, out, rowMax, rowInvSum));
    }

    private record Dims(int heads, int nq, int nk, int d, int dv, boolean causal, float scale) {
    }

    /**
     * scores[rows, nk] = exp(scale·(q·kᵀ − rowmax)) for query rows q0.. of head h, causal-masked if asked,
     * max[r] = the row's maximum of q·kᵀ and invSum[r] = 1 / Σ_j scores[r, j], so that scores[r, j]·invSum[r] is
     * the softmax (a fully masked row: all 0, invSum 0). The scale is applied inside the exponential and the
     * division is left to the caller: the nk-long rows are read twice (max, exp) instead of four times.
     */
    private static void expScores(Dims dm, float[] qv, PackedPanels kPanels, float[] kPacked, int kOff, int h, int q0,
            int rows, float[] scores, float[] invSum, float[] max) {
        rawScores(dm, qv, kPanels, kPacked, kOff, h, q0, rows, scores);
        for (int r = 0; r < rows; r++) {
            int base = r * dm.nk;
            max[r] = VectorMath.max(scores, base, dm.nk);
            invSum[r] = CpuSoftmax.expRow(scores, scores, base, dm.nk, max[r], dm.scale);
        }
    }

    /** Head h's Kᵀ [d, nk] packed at kPacked[off]. */
    private static void packKeys(Dims dm, float[] kv, int h, PackedPanels kPanels, float[] kPacked, int off) {
        kPanels.pack(Gemm.Operand.rowMajor(kv, h * dm.nk * dm.d, dm.d).t(), kPacked, off);
    }

    /**
     * scores[rows, nk] = q·kᵀ for query rows q0.. of head h (its Kᵀ packed at kPacked[kOff]), with −∞ where the
     * causal mask hides a key.
     */
    private static void rawScores(Dims dm, float[] qv, PackedPanels kPanels, float[] kPacked, int kOff, int h, int q0,
            int rows, float[] scores) {
        kPanels.multiply(rows, Gemm.Operand.rowMajor(qv, (h * dm.nq + q0) * dm.d, dm.d), kPacked, kOff, scores, 0,
                dm.nk);
        if (dm.causal) {
            for (int r = 0; r < rows; r++) {
                int limit = q0 + r; // query i sees keys 0..i (Nq == Nk, checked in sdpa)
                java.util.Arrays.fill(scores, r * dm.nk + limit + 1, (r + 1) * dm.nk, Float.NEGATIVE_INFINITY);
            }
        }
    }

    /** p[rows, nk] = the softmax of query rows q0.. of head h, rebuilt from the forward's row maxima and 1/Σ. */
    private static void probabilities(Dims dm, float[] qv, PackedPanels kPanels, float[] kPacked, int h, int q0,
            int rows, float[] p, float[] rowMax, float[] rowInvSum) {
        rawScores(dm, qv, kPanels, kPacked, 0, h, q0, rows, p);
        for (int r = 0; r < rows; r++) {
            int row = h * dm.nq + q0 + r;
            if (rowMax[row] == Float.NEGATIVE_INFINITY) {
                java.util.Arrays.fill(p, r * dm.nk, (r + 1) * dm.nk, 0f);
            } else {
                VectorMath.expShiftedTimes(p, p, r * dm.nk, dm.nk, rowMax[row], dm.scale, rowInvSum[row]);
            }
        }
    }

    /** a[off + r·width + j] *= factor[r] for r < rows. */
    private static void scaleRows(float[] a, int off, int rows, int width, float[] factor) {
        for (int r = 0; r < rows; r++) {
            float f = factor[r];
            int base = off + r * width;
            for (int j = 0; j < width; j++) {
                a[base + j] *= f;
            }
        }
    }

    private static Tensor[] backward(Dims dm, Tensor gy, Tensor q, Tensor k, Tensor v, float[] qv, float[] kv, float[] vv,
            float[] out, float[] rowMax, float[] rowInvSum) {
        float[] g = gy.floats();
        float[] gq = new float[qv.length];
        float[] gk = new float[kv.length];
        float[] gv = new float[vv.length];
        Parallel.range(dm.heads, 4L * dm.nq * dm.nk * (dm.d + dm.dv), (h0, h1) -> {
            float[] p = Scratch.take(BLOCK * dm.nk);
            float[] dp = Scratch.take(BLOCK * dm.nk);
            // dVᵀ and dKᵀ [d, nk]: accumulated as dOᵀ·P and Qᵀ·dS, so the big block is read in its own row-major
            // layout (not packed as a transpose), then transposed once per head
            float[] gvT = Scratch.take(dm.dv * dm.nk);
            float[] gkT = Scratch.take(dm.d * dm.nk);
            PackedPanels kPanels = new PackedPanels(dm.d, dm.nk);
            float[] kPacked = Scratch.take(kPanels.size());
            PackedPanels vtPanels = new PackedPanels(dm.dv, dm.nk); // Vᵀ, for dP = dO·Vᵀ
            float[] vtPacked = Scratch.take(vtPanels.size());
            for (int h = h0; h < h1; h++) {
                packKeys(dm, kv, h, kPanels, kPacked, 0);
                vtPanels.pack(Gemm.Operand.rowMajor(vv, h * dm.nk * dm.dv, dm.dv).t(), vtPacked, 0);
                for (int q0 = 0; q0 < dm.nq; q0 += BLOCK) {
                    int rows = Math.min(BLOCK, dm.nq - q0);
                    probabilities(dm, qv, kPanels, kPacked, h, q0, rows, p, rowMax, rowInvSum);
                    int gOff = (h * dm.nq + q0) * dm.dv;
                    Gemm.Operand gOut = Gemm.Operand.rowMajor(g, gOff, dm.dv);
                    // dVᵀ += dOᵀ·P
                    Gemm.sgemm(dm.dv, dm.nk, rows, gOut.t(), Gemm.Operand.rowMajor(p, 0, dm.nk), gvT, 0, dm.nk, q0 > 0);
                    // dP = dO·Vᵀ ; dS = P ∘ (dP − rowsum(dO ∘ O)) · scale
                    vtPanels.multiply(rows, gOut, vtPacked, 0, dp, 0, dm.nk);
                    for (int r = 0; r < rows; r++) {
                        double dot = 0;
                        for (int j = 0; j < dm.dv; j++) {
                            dot += g[gOff + r * dm.dv + j] * out[gOff + r * dm.dv + j];
                        }
                        float dt = (float) dot;
                        int base = r * dm.nk;
                        for (int j = 0; j < dm.nk; j++) {
                            dp[base + j] = p[base + j] * (dp[base + j] - dt) * dm.scale;
                        }
                    }
                    Gemm.Operand ds = Gemm.Operand.rowMajor(dp, 0, dm.nk);
                    int qOff = (h * dm.nq + q0) * dm.d;
                    // dQ = dS·K ; dKᵀ += Qᵀ·dS
                    Gemm.sgemm(rows, dm.d, dm.nk, ds, Gemm.Operand.rowMajor(kv, h * dm.nk * dm.d, dm.d), gq, qOff, dm.d,
                            false);
                    Gemm.sgemm(dm.d, dm.nk, rows, Gemm.Operand.rowMajor(qv, qOff, dm.d).t(), ds, gkT, 0, dm.nk, q0 > 0);
                }
                if (dm.nq > 0) { // no queries: dV and dK stay 0 (gvT, gkT were never written)
                    transposeInto(gvT, dm.dv, dm.nk, gv, h * dm.nk * dm.dv);
                    transposeInto(gkT, dm.d, dm.nk, gk, h * dm.nk * dm.d);
                }
            }
            Scratch.give(p);
            Scratch.give(dp);
            Scratch.give(gvT);
            Scratch.give(gkT);
            Scratch.give(kPacked);
            Scratch.give(vtPacked);
        });
        return new Tensor[] {Tensor.of(gq, q.shape()), Tensor.of(gk, k.shape()), Tensor.of(gv, v.shape())};
    }

    /** dst[off + j·rows + i] = src[i·cols + j]: a [rows, cols] matrix written as its [cols, rows] transpose. */
    private static void transposeInto(float[] src, int rows, int cols, float[] dst, int off) {
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                dst[off + j * rows + i] = src[i * cols + j];
            }
        }
    }
}
