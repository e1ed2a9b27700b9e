package sdj.backend.cuda;

import sdj.tensor.DType;

/**
 * Kernel launches the kernel tests call directly and the engine reaches otherwise (through
 * {@link CudaBackend} or as parts of larger CudaOps methods): elementwise maps, the sum_keep_middle
 * reductions under their usual names, casts and the matmul gradient pair.
 */
final class KernelCalls {
    private KernelCalls() {
    }

    record MatmulGrads(CudaTensor da, CudaTensor db) {
    }

    /** Gradients of y = a·b (no transposes) for the output gradient g; a 2-D b gets Σ over a's batch. */
    static MatmulGrads matmulBackward(CudaOps ops, CudaTensor a, CudaTensor b, CudaTensor g) {
        GemmPath path = ops.gemmPath();
        CudaTensor da = ops.matmul(g, false, b, true, path);
        CudaTensor db = b.dim() == 2 && a.dim() > 2
                ? ops.matmul(a.view(-1, a.size(-1)), true, g.view(-1, g.size(-1)), false, path)
                : ops.matmul(a, true, g, false, path);
        return new MatmulGrads(da, db);
    }

    static CudaTensor activation(Activation act, CudaTensor x) {
        return ElementwiseOps.activation(act, x, 0f);
    }

    static CudaTensor activationBackward(Activation act, CudaTensor x, CudaTensor dy) {
        return ElementwiseOps.activationBackward(act, x, dy, 0f);
    }

    static CudaTensor add(CudaTensor a, CudaTensor b) {
        return ElementwiseOps.binary(ElementwiseOps.ADD, a, b);
    }

    static CudaTensor sub(CudaTensor a, CudaTensor b) {
        return ElementwiseOps.binary(ElementwiseOps.SUB, a, b);
    }

    static CudaTensor mul(CudaTensor a, CudaTensor b) {
        return ElementwiseOps.binary(ElementwiseOps.MUL, a, b);
    }

    static CudaTensor div(CudaTensor a, CudaTensor b) {
        return ElementwiseOps.binary(ElementwiseOps.DIV, a, b);
    }

    static CudaTensor add(CudaTensor x, float s) {
        return ElementwiseOps.affine(x, 1f, s);
    }

    static CudaTensor mul(CudaTensor x, float s) {
        return ElementwiseOps.affine(x, s, 0f);
    }

    static CudaTensor neg(CudaTensor x) {
        return ElementwiseOps.affine(x, -1f, 0f);
    }

    /** A copy converted to another dtype. */
    static CudaTensor to(CudaTensor x, DType dtype) {
        return ElementwiseOps.cast(x, dtype);
    }

    /** Sum of every element, fp32 [1]. */
    static CudaTensor sum(CudaTensor x) {
        return NormOps.sumKeepMiddle(x, 1, 1, x.numel());
    }

    /** Sum over the last dim, fp32 [rows]. */
    static CudaTensor sumLastDim(CudaTensor x) {
        long cols = x.size(-1);
        return NormOps.sumKeepMiddle(x, 1, Math.toIntExact(x.numel() / cols), cols);
    }

    /** Sum over every dim but the last (the bias gradient of linear), fp32 [cols]. */
    static CudaTensor sumToLastDim(CudaTensor x) {
        int cols = x.size(-1);
        return NormOps.sumKeepMiddle(x, x.numel() / cols, cols, 1);
    }

    /** Per-channel sum of [N, C, ...] (the bias gradient of conv2d), fp32 [C]. */
    static CudaTensor sumPerChannel(CudaTensor x) {
        int c = x.size(1);
        return NormOps.sumKeepMiddle(x, x.size(0), c, x.numel() / ((long) x.size(0) * c));
    }
}
