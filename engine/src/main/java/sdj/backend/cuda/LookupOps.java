package sdj.backend.cuda;

import sdj.tensor.DType;

/** Launches embedding.cu (gather / scatter-add) and upsample.cu (nearest, integer factor). */
final class LookupOps {
    /** embedding.cu's EMB_BUCKETS: the backward's threads per column, each owning the ids ≡ bucket. */
    private static final int EMBEDDING_BUCKETS = 64;

    private LookupOps() {
    }

    /** weight [V, D], ids int32 of any shape → [...ids shape, D]. */
    static CudaTensor embedding(CudaTensor weight, CudaTensor ids) {
        requireIds(ids);
        long n = ids.numel();
        int dim = weight.size(1);
        int[] outShape = java.util.Arrays.copyOf(ids.shape(), ids.dim() + 1);
        outShape[ids.dim()] = dim;
        CudaTensor out = CudaTensor.empty(weight.device(), weight.dtype(), outShape);
        weight.device().kernel("embedding", "embedding_forward_" + weight.dtype().suffix()).launch(
                LaunchShape.elementwise(n * dim), weight.ptr(), ids.ptr(), out.ptr(), n, (long) weight.size(0), (long) dim);
        return out;
    }

    /** The fp32 gradient of an embedding table [vocab, D] from dout [...ids shape, D]; no atomics, reproducible. */
    static CudaTensor embeddingBackward(CudaTensor dout, CudaTensor ids, int vocab) {
        requireIds(ids);
        long n = ids.numel();
        int dim = dout.size(-1);
        CudaTensor dweight = CudaTensor.zeros(dout.device(), DType.F32, vocab, dim);
        dout.device().kernel("embedding", "embedding_backward_" + dout.dtype().suffix()).launch(
                LaunchShape.elementwise((long) EMBEDDING_BUCKETS * dim), dout.ptr(), ids.ptr(), dweight.ptr(), n,
                (long) vocab, (long) dim);
        return dweight;
    }

    /** [N, C, H, W] → [N, C, H·s, W·s]. */
    static CudaTensor upsampleNearest(CudaTensor x, int scale) {
        int[] s = x.shape();
        CudaTensor out = CudaTensor.empty(x.device(), x.dtype(), s[0], s[1], s[2] * scale, s[3] * scale);
        x.device().kernel("upsample", "upsample_nearest_forward_" + x.dtype().suffix()).launch(
                LaunchShape.elementwise(out.numel()), x.ptr(), out.ptr(), (long) s[0] * s[1], s[2], s[3], scale);
        return out;
    }

    static CudaTensor upsampleNearestBackward(CudaTensor dout, int scale) {
        int[] s = dout.shape();
        CudaTensor dx = CudaTensor.empty(dout.device(), dout.dtype(), s[0], s[1], s[2] / scale, s[3] / scale);
        dout.device().kernel("upsample", "upsample_nearest_backward_" + dout.dtype().suffix()).launch(
                LaunchShape.elementwise(dx.numel()), dout.ptr(), dx.ptr(), (long) s[0] * s[1], s[2] / scale,
                s[3] / scale, scale);
        return dx;
    }

    private static void requireIds(CudaTensor ids) {
        if (ids.dtype() != DType.I32) {
            throw new IllegalArgumentException("embedding ids must be an I32 device tensor, got " + ids);
        }
    }
}
