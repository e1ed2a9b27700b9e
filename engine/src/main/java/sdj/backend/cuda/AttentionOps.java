package sdj.backend.cuda;

import sdj.tensor.DType;

/**
 * Launches attention.cu. Tensors come either as [B, H, N, D] or as [B, N, H*D] with a head count
 * (the output of a linear projection); both are read in place through strides.
 */
final class AttentionOps {
    private static final int BLOCK_ROWS = 16;
    private static final int TILE = 32;
    private static final int MAX_HEAD_DIM = 256;
    /** Query rows per block and keys per tile of the tensor-core forward. */
    private static final int TC_ROWS = 64;
    private static final int TC_KEYS = 64;

    private AttentionOps() {
    }

    /** Strides of a [B, H, N, D] view of a tensor in one of the two supported layouts. */
    record Layout(int batch, int heads, int tokens, int headDim, long sB, long sH, long sN) {
        static Layout of(CudaTensor t, int heads) {
            if (t.dim() == 4) {
                int h = t.size(1);
                int n = t.size(2);
                int d = t.size(3);
                return new Layout(t.size(0), h, n, d, (long) h * n * d, (long) n * d, d);
            }
            if (t.dim() == 3) {
                int n = t.size(1);
                if (heads <= 0 || t.size(2) % heads != 0) {
                    throw new IllegalArgumentException("attention: width " + t.size(2) + " of " + t
                            + " does not split into " + heads + " heads");
                }
                int d = t.size(2) / heads;
                return new Layout(t.size(0), heads, n, d, (long) n * heads * d, d, (long) heads * d);
            }
            throw new IllegalArgumentException("attention takes [B, H, N, D] or [B, N, H*D] tensors, got " + t);
        }
    }

    static CudaOps.AttentionResult forward(CudaTensor q, CudaTensor k, CudaTensor v, int heads, float scale,
                                           boolean causal) {
        Layout ql = Layout.of(q, heads);
        Layout kl = Layout.of(k, heads);
        check(q, k, v, ql, kl);
        int d = ql.headDim();
        int bh = ql.batch() * ql.heads();
        CudaTensor o = CudaTensor.empty(q.device(), q.dtype(), q.shape());
        CudaTensor lse = CudaTensor.empty(q.device(), DType.F32, bh, ql.tokens());
        if (q.dtype() == DType.F32) {
            int smem = 4 * (TILE * (d + 1) + TILE * d + BLOCK_ROWS * d);
            kernel(q, "attention_forward").launch(
                    LaunchShape.grid(LaunchShape.ceilDiv(ql.tokens(), BLOCK_ROWS), bh, 1, 128, smem),
                    q.ptr(), k.ptr(), v.ptr(), o.ptr(), lse.ptr(), ql.heads(), ql.tokens(), kl.tokens(), d,
                    ql.sB(), ql.sH(), ql.sN(), kl.sB(), kl.sH(), kl.sN(), scale, causal ? 1 : 0);
        } else {
            // fp16/bf16: the tensor-core kernel (attention.cu, attention_forward_tc_*).
            boolean sharedKV = tcSharesKV(d);
            kernel(q, "attention_forward_tc").launch(
                    LaunchShape.grid(LaunchShape.ceilDiv(ql.tokens(), TC_ROWS), bh, 1, 128, tcSharedBytes(d)),
                    q.ptr(), k.ptr(), v.ptr(), o.ptr(), lse.ptr(), ql.heads(), ql.tokens(), kl.tokens(), d,
                    ql.sB(), ql.sH(), ql.sN(), kl.sB(), kl.sH(), kl.sN(), scale, causal ? 1 : 0,
                    sharedKV ? 1 : 0);
        }
        return new CudaOps.AttentionResult(o, lse);
    }

    static CudaOps.AttentionGrads backward(CudaTensor q, CudaTensor k, CudaTensor v, CudaOps.AttentionResult saved,
                                           CudaTensor dout, int heads, float scale, boolean causal) {
        Layout ql = Layout.of(q, heads);
        Layout kl = Layout.of(k, heads);
        check(q, k, v, ql, kl);
        int d = ql.headDim();
        int bh = ql.batch() * ql.heads();
        CudaDevice dev = q.device();
        CudaTensor dq = CudaTensor.empty(dev, q.dtype(), q.shape());
        CudaTensor dk = CudaTensor.empty(dev, k.dtype(), k.shape());
        CudaTensor dv = CudaTensor.empty(dev, v.dtype(), v.shape());
        try (CudaTensor delta = CudaTensor.empty(dev, DType.F32, bh, ql.tokens())) {
            kernel(q, "attention_backward_delta").launch(
                    LaunchShape.grid(LaunchShape.ceilDiv(ql.tokens(), 4), bh, 1, 128, 0),
                    saved.out().ptr(), dout.ptr(), delta.ptr(), ql.heads(), ql.tokens(), d, ql.sB(), ql.sH(), ql.sN());
            int smemDq = 4 * (2 * TILE * (d + 1) + 2 * BLOCK_ROWS * d);
            kernel(q, "attention_backward_dq").launch(
                    LaunchShape.grid(LaunchShape.ceilDiv(ql.tokens(), BLOCK_ROWS), bh, 1, 128, smemDq),
                    q.ptr(), k.ptr(), v.ptr(), dout.ptr(), saved.lse().ptr(), delta.ptr(), dq.ptr(), ql.heads(),
                    ql.tokens(), kl.tokens(), d, ql.sB(), ql.sH(), ql.sN(), kl.sB(), kl.sH(), kl.sN(), scale,
                    causal ? 1 : 0);
            int smemKv = 4 * (2 * TILE * (d + 1) + 2 * TILE + 2 * BLOCK_ROWS * d);
            kernel(q, "attention_backward_dkdv").launch(
                    LaunchShape.grid(LaunchShape.ceilDiv(kl.tokens(), BLOCK_ROWS), bh, 1, 128, smemKv),
                    q.ptr(), k.ptr(), v.ptr(), dout.ptr(), saved.lse().ptr(), delta.ptr(), dk.ptr(), dv.ptr(),
                    ql.heads(), ql.tokens(), kl.tokens(), d, ql.sB(), ql.sH(), ql.sN(), kl.sB(), kl.sH(), kl.sN(),
                    scale, causal ? 1 : 0);
        }
        return new CudaOps.AttentionGrads(dq, dk, dv);
    }

    /**
     * The tensor-core forward stages V in K's buffer (after the scores) when the head dim padded to 16
     * exceeds 128, so that D = 256 stays within an A100's 163 KB of shared memory per block.
     */
    static boolean tcSharesKV(int headDim) {
        return paddedHeadDim(headDim) > 128;
    }

    /** Dynamic shared memory of attention_forward_tc, as laid out in attention.cu. */
    static int tcSharedBytes(int headDim) {
        int dp = paddedHeadDim(headDim);
        int o = TC_ROWS * (dp + 4) * 4;             // fp32 output accumulators
        int s = 4 * 16 * (TC_KEYS + 4) * 4;         // per-warp fp32 scores
        int p = 4 * 16 * (TC_KEYS + 8) * 2;         // per-warp probabilities
        int tile = TC_ROWS * (dp + 8) * 2;          // Q, K, V tiles
        return o + s + p + (tcSharesKV(headDim) ? 2 : 3) * tile;
    }

    private static int paddedHeadDim(int headDim) {
        return (headDim + 15) / 16 * 16;
    }

    private static void check(CudaTensor q, CudaTensor k, CudaTensor v, Layout ql, Layout kl) {
        if (ql.batch() != kl.batch() || ql.heads() != kl.heads() || ql.headDim() != kl.headDim()
                || !java.util.Arrays.equals(k.shape(), v.shape())) {
            throw new IllegalArgumentException("attention shapes do not agree: q " + q + ", k " + k + ", v " + v);
        }
        if (q.dtype() != k.dtype() || q.dtype() != v.dtype()) {
            throw new IllegalArgumentException("attention dtypes differ: " + q.dtype() + ", " + k.dtype() + ", " + v.dtype());
        }
        if (ql.headDim() > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention head dim " + ql.headDim() + " exceeds " + MAX_HEAD_DIM);
        }
    }

    private static Kernel kernel(CudaTensor like, String base) {
        return like.device().kernel("attention", base + "_" + like.dtype().suffix());
    }
}
