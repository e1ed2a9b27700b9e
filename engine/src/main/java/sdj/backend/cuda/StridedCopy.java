package sdj.backend.cuda;

import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Launches copy.cu: one logical shape copied from a strided source view to a strided destination
 * view, within or between device buffers. Tensor.contiguous(), broadcast materialisation (stride 0),
 * cat and zero padding are all this copy.
 */
final class StridedCopy {
    static final int MAX_RANK = 6;

    private StridedCopy() {
    }

    /** A fresh contiguous copy of a CUDA tensor view, same dtype. */
    static CudaTensor contiguous(Tensor src) {
        CudaTensor out = CudaTensor.empty(CudaStorage.of(src).buffer().device(), src.dtype(), src.shape());
        copy(src, out, 0, Shape.contiguousStrides(src.shape()));
        return out;
    }

    /** Writes the view {@code src} into {@code dst} at element {@code dstOffset} with {@code dstStrides}. */
    static void copy(Tensor src, CudaTensor dst, long dstOffset, int[] dstStrides) {
        copy(CudaStorage.of(src).buffer(), src.offset(), src.strides(), src.shape(), dst, dstOffset, dstStrides);
    }

    /**
     * Copies {@code shape} elements read from {@code from} at {@code srcOffset} with {@code srcStrides}
     * to {@code dst} at {@code dstOffset} with {@code dstStrides} (all in elements).
     */
    static void copy(CudaTensor from, long srcOffset, int[] srcStrides, int[] shape, CudaTensor dst, long dstOffset,
                     int[] dstStrides) {
        if (from.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("strided copy from " + from.dtype() + " to " + dst.dtype());
        }
        int rank = shape.length;
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("CUDA copies handle tensors of rank ≤ " + MAX_RANK + ", got "
                    + Shape.str(shape));
        }
        long n = Shape.numel(shape);
        if (n == 0) {
            return;
        }
        // Pad to rank 6 with leading size-1 dims; their strides never multiply a non-zero index.
        Object[] args = new Object[3 + 3 * MAX_RANK];
        int bytes = from.dtype().byteSize;
        args[0] = from.ptr().plus(srcOffset * bytes);
        args[1] = dst.ptr().plus(dstOffset * bytes);
        args[2] = n;
        int lead = MAX_RANK - rank;
        for (int i = 0; i < MAX_RANK; i++) {
            int d = i - lead;
            args[3 + i] = d < 0 ? 1 : shape[d];
            args[3 + MAX_RANK + i] = d < 0 ? 0L : (long) srcStrides[d];
            args[3 + 2 * MAX_RANK + i] = d < 0 ? 0L : (long) dstStrides[d];
        }
        String kernel = switch (bytes) {
            case 2 -> "strided_copy_b16";
            case 4 -> "strided_copy_b32";
            default -> throw new IllegalArgumentException("no CUDA copy for " + bytes + "-byte elements");
        };
        dst.device().kernel("copy", kernel).launch(LaunchShape.elementwise(n), args);
    }
}
