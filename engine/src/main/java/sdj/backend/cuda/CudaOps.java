package sdj.backend.cuda;

import java.util.Arrays;
import sdj.tensor.DType;

/**
 * The CUDA op set, named after the CPU ops (matmul, linear, conv2d, groupNorm, layerNorm, softmax,
 * attention, gelu, silu, add, ...), each with its backward. Ops take and return {@link CudaTensor}s
 * of one dtype (F32, F16 or BF16; accumulation is fp32 everywhere) and return fresh tensors the
 * caller closes. Forward results that backward needs (norm statistics, attention log-sum-exp) come
 * back in small records. Work is queued on the device's stream; {@link CudaTensor#toHost()} waits.
 */
public final class CudaOps {
    private final CudaDevice device;
    private final CudaGemm gemm;

    /** y with the per-row (LayerNorm) or per-(sample, group) (GroupNorm) mean and 1/std, fp32. */
    public record NormResult(CudaTensor y, CudaTensor mean, CudaTensor rstd) implements AutoCloseable {
        @Override
        public void close() {
            y.close();
            mean.close();
            rstd.close();
        }
    }

    /** dx in x's dtype; dgamma and dbeta in fp32 (null when not requested). */
    public record NormGrads(CudaTensor dx, CudaTensor dgamma, CudaTensor dbeta) {
    }

    /** Attention output and the fp32 row log-sum-exp [B*H, Nq] the backward pass needs. */
    public record AttentionResult(CudaTensor out, CudaTensor lse) implements AutoCloseable {
        @Override
        public void close() {
            out.close();
            lse.close();
        }
    }

    public record AttentionGrads(CudaTensor dq, CudaTensor dk, CudaTensor dv) {
    }

    /** dbias is fp32 (null when not requested). */
    public record ConvGrads(CudaTensor dx, CudaTensor dweight, CudaTensor dbias) {
    }

    private static volatile CudaOps shared;

    /** The op set on the first GPU; throws {@link CudaException} with the reason when there is none. */
    public static CudaOps shared() {
        CudaOps o = shared;
        if (o == null) {
            synchronized (CudaOps.class) {
                if (shared == null) {
                    shared = new CudaOps(Cuda.device());
                }
                o = shared;
            }
        }
        return o;
    }

    public CudaOps(CudaDevice device) {
        this.device = device;
        this.gemm = new CudaGemm(device);
    }

    public CudaDevice device() {
        return device;
    }

    /** The GEMM implementation in use (cuBLASLt when installed). */
    public GemmPath gemmPath() {
        return gemm.defaultPath();
    }

    public boolean hasCublasLt() {
        return gemm.hasCublasLt();
    }

    // ------------------------------------------------------------------ GEMM

    public CudaTensor matmul(CudaTensor a, CudaTensor b) {
        return matmul(a, false, b, false, gemm.defaultPath());
    }

    /**
     * op(a)·op(b) over the last two dims, op = transpose when the flag is set. b may be 2-D (shared by
     * every batch of a) or carry a's batch dims.
     */
    public CudaTensor matmul(CudaTensor a, boolean transA, CudaTensor b, boolean transB, GemmPath path) {
        return matmul(a, transA, b, transB, path, 1f);
    }

    /** alpha·op(a)·op(b): the scale is applied to the fp32 accumulator, before rounding to a's dtype. */
    public CudaTensor matmul(CudaTensor a, boolean transA, CudaTensor b, boolean transB, GemmPath path, float alpha) {
        if (a.dtype() != b.dtype() || a.dim() < 2 || b.dim() < 2) {
            throw new IllegalArgumentException("matmul needs two matrices of one dtype, got " + a + " and " + b);
        }
        int ar = a.size(-2);
        int ac = a.size(-1);
        int br = b.size(-2);
        int bc = b.size(-1);
        int m = transA ? ac : ar;
        int k = transA ? ar : ac;
        int n = transB ? br : bc;
        if ((transB ? bc : br) != k) {
            throw new IllegalArgumentException("matmul inner dimensions differ: " + a + (transA ? "ᵀ" : "") + " · " + b
                    + (transB ? "ᵀ" : ""));
        }
        long batchA = a.numel() / ((long) ar * ac);
        long batchB = b.numel() / ((long) br * bc);
        int[] batchDims = Arrays.copyOf(batchA >= batchB ? a.shape() : b.shape(), Math.max(a.dim(), b.dim()) - 2);
        int[] outShape = Arrays.copyOf(batchDims, batchDims.length + 2);
        outShape[batchDims.length] = m;
        outShape[batchDims.length + 1] = n;
        CudaTensor out = CudaTensor.empty(device, a.dtype(), outShape);
        if (batchB == 1 && batchA > 1 && !transA) {
            // Shared right operand: fold a's batch into M, one large GEMM.
            gemm.gemm(path, a.dtype(), (int) (batchA * m), n, k, GemmOperand.of(a, ar, ac, false, 0),
                    GemmOperand.of(b, br, bc, transB, 0), out.ptr(), n, 0, 1, alpha, 0f);
            return out;
        }
        if (batchA != batchB && batchA != 1 && batchB != 1) {
            out.close();
            throw new IllegalArgumentException("matmul batch dims do not agree: " + a + " · " + b);
        }
        long batch = Math.max(batchA, batchB);
        gemm.gemm(path, a.dtype(), m, n, k, GemmOperand.of(a, ar, ac, transA, batchA == 1 ? 0 : (long) ar * ac),
                GemmOperand.of(b, br, bc, transB, batchB == 1 ? 0 : (long) br * bc), out.ptr(), n, (long) m * n,
                Math.toIntExact(batch), alpha, 0f);
        return out;
    }

    /** x·Wᵀ + bias with W [out, in] as in nn.Linear (bias may be null). */
    public CudaTensor linear(CudaTensor x, CudaTensor weight, CudaTensor bias) {
        CudaTensor y = matmul(x, false, weight, true, gemm.defaultPath());
        if (bias == null) {
            return y;
        }
        try (y) {
            return ElementwiseOps.binary(ElementwiseOps.ADD, y, bias);
        }
    }

    // ------------------------------------------------------------------ convolution

    /** 2-D convolution, x [N, C, H, W], weight [Cout, C, KH, KW], bias [Cout] or null. */
    public CudaTensor conv2d(CudaTensor x, CudaTensor weight, CudaTensor bias, int stride, int padding) {
        return ConvOps.conv2d(gemm, x, weight, bias, stride, padding);
    }

    public ConvGrads conv2dBackward(CudaTensor x, CudaTensor weight, CudaTensor dy, int stride, int padding,
                                    boolean biasGrad) {
        return ConvOps.conv2dBackward(gemm, x, weight, dy, stride, padding, biasGrad);
    }

    // ------------------------------------------------------------------ normalisation, softmax, reductions

    /** gamma/beta (same dtype as x, may be null) over the last dim. */
    public NormResult layerNorm(CudaTensor x, CudaTensor gamma, CudaTensor beta, float eps) {
        return NormOps.layerNorm(x, gamma, beta, eps);
    }

    public NormGrads layerNormBackward(CudaTensor x, CudaTensor gamma, NormResult saved, CudaTensor dy,
                                      boolean paramGrads) {
        return NormOps.layerNormBackward(x, gamma, saved, dy, paramGrads);
    }

    /** GroupNorm of x [N, C, ...]; with {@code silu} the SiLU that follows it in SD ResBlocks is fused in. */
    public NormResult groupNorm(CudaTensor x, int groups, CudaTensor gamma, CudaTensor beta, float eps, boolean silu) {
        return NormOps.groupNorm(x, groups, gamma, beta, eps, silu);
    }

    public NormGrads groupNormBackward(CudaTensor x, int groups, CudaTensor gamma, CudaTensor beta, NormResult saved,
                                      CudaTensor dy, boolean silu, boolean paramGrads) {
        return NormOps.groupNormBackward(x, groups, gamma, beta, saved, dy, silu, paramGrads);
    }

    /** softmax(scale · x) over the last dim. */
    public CudaTensor softmax(CudaTensor x, float scale) {
        return NormOps.softmax(x, scale);
    }

    public CudaTensor softmaxBackward(CudaTensor y, CudaTensor dy, float scale) {
        return NormOps.softmaxBackward(y, dy, scale);
    }

    // ------------------------------------------------------------------ attention

    /** Fused attention over [B, H, N, D] tensors. */
    public AttentionResult attention(CudaTensor q, CudaTensor k, CudaTensor v, float scale, boolean causal) {
        return AttentionOps.forward(q, k, v, 0, scale, causal);
    }

    /** Fused attention over [B, N, H*D] tensors (linear-layer outputs) split into {@code heads}. */
    public AttentionResult attention(CudaTensor q, CudaTensor k, CudaTensor v, int heads, float scale, boolean causal) {
        return AttentionOps.forward(q, k, v, heads, scale, causal);
    }

    public AttentionGrads attentionBackward(CudaTensor q, CudaTensor k, CudaTensor v, AttentionResult saved,
                                            CudaTensor dout, int heads, float scale, boolean causal) {
        return AttentionOps.backward(q, k, v, saved, dout, heads, scale, causal);
    }

    // ------------------------------------------------------------------ elementwise

    /** act(x) with a parameter: {@link Activation#POW}'s exponent. */
    public CudaTensor activation(Activation act, CudaTensor x, float p) {
        return ElementwiseOps.activation(act, x, p);
    }

    /** dx = dy · act'(x). */
    /** dx = dy · act'(x) with a parameter: {@link Activation#POW}'s exponent. */
    public CudaTensor activationBackward(Activation act, CudaTensor x, CudaTensor dy, float p) {
        return ElementwiseOps.activationBackward(act, x, dy, p);
    }

    /** SD's GEGLU: x [..., 2F] = [value | gate] → value · gelu(gate). */
    public CudaTensor geglu(CudaTensor x) {
        return ElementwiseOps.geglu(x);
    }

    public CudaTensor gegluBackward(CudaTensor x, CudaTensor dout) {
        return ElementwiseOps.gegluBackward(x, dout);
    }

    // ------------------------------------------------------------------ lookup and resampling

    public CudaTensor embedding(CudaTensor weight, CudaTensor ids) {
        return LookupOps.embedding(weight, ids);
    }

    public CudaTensor embeddingBackward(CudaTensor dout, CudaTensor ids, int vocab) {
        return LookupOps.embeddingBackward(dout, ids, vocab);
    }

    public CudaTensor upsampleNearest(CudaTensor x, int scale) {
        return LookupOps.upsampleNearest(x, scale);
    }

    public CudaTensor upsampleNearestBackward(CudaTensor dout, int scale) {
        return LookupOps.upsampleNearestBackward(dout, scale);
    }
}
