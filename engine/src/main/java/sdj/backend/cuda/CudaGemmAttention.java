package sdj.backend.cuda;

import sdj.tensor.Backend.Result;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * Attention as GEMM + softmax + GEMM over [B, H, N, d] tensors, for heads wider than the fused kernel
 * takes (the VAE's single 512-wide head). The backward recomputes P instead of keeping the N×N matrix
 * alive until then.
 */
final class CudaGemmAttention {
    private CudaGemmAttention() {
    }

    static Result attend(Tensor q, Tensor k, Tensor v, float scale, boolean keep) {
        return attend(q, k, v, scale, keep, new Tensor[] {q, k, v});
    }

    /** As above; owners are the tensors whose requiresGrad says which gradients to compute (q, k, v or their sources). */
    static Result attend(Tensor q, Tensor k, Tensor v, float scale, boolean keep, Tensor[] owners) {
        try (Operands in = new Operands("attention", q, k, v)) {
            DType dt = CudaBackend.common(CudaBackend.common(q.dtype(), k.dtype()), v.dtype());
            CudaOps o = CudaOps.shared();
            Tensor y;
            try (CudaTensor p = probabilities(in.get(q, dt), in.get(k, dt), scale)) {
                y = CudaStorage.wrap(o.matmul(p, false, in.get(v, dt), false, o.gemmPath()));
            }
            if (!keep) {
                return Result.of(y);
            }
            return new Result(y, g -> {
                try (Operands gin = new Operands("attention backward", g, q, k, v)) {
                    CudaTensor cq = gin.get(q, dt);
                    CudaTensor ck = gin.get(k, dt);
                    CudaTensor dy = gin.get(g, dt);
                    GemmPath path = o.gemmPath();
                    try (CudaTensor p = probabilities(cq, ck, scale);
                         CudaTensor dp = o.matmul(dy, false, gin.get(v, dt), true, path);
                         CudaTensor ds = o.softmaxBackward(p, dp, scale)) {
                        return new Tensor[] {
                            owners[0].requiresGrad() ? CudaStorage.wrap(o.matmul(ds, false, ck, false, path)) : null,
                            owners[1].requiresGrad() ? CudaStorage.wrap(o.matmul(ds, true, cq, false, path)) : null,
                            owners[2].requiresGrad() ? CudaStorage.wrap(o.matmul(p, true, dy, false, path)) : null};
                    }
                }
            });
        }
    }

    /**
     * softmax(q·kᵀ·scale) as a device buffer the caller frees. The scale goes into the GEMM, before the
     * scores are rounded to fp16: the VAE's 512-wide head gives raw q·k products past fp16's 65504.
     */
    private static CudaTensor probabilities(CudaTensor q, CudaTensor k, float scale) {
        CudaOps o = CudaOps.shared();
        try (CudaTensor scores = o.matmul(q, false, k, true, o.gemmPath(), scale)) {
            return o.softmax(scores, 1f);
        }
    }
}
