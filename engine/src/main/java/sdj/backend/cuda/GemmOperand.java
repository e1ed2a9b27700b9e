package sdj.backend.cuda;

/**
 * A GEMM input as (device pointer, row stride, column stride, batch stride) in elements: element
 * (r, c) of batch i is at ptr + i*batchStride + r*rowStride + c*colStride. A transposed view swaps
 * the two strides; a matrix shared by every batch has batch stride 0.
 */
record GemmOperand(DevicePtr ptr, long rowStride, long colStride, long batchStride) {
    /** A dense row-major [rows, cols] matrix, optionally transposed (read as [cols, rows]). */
    static GemmOperand of(CudaTensor t, long rows, long cols, boolean transpose, long batchStride) {
        return transpose ? new GemmOperand(t.ptr(), 1, cols, batchStride) : new GemmOperand(t.ptr(), cols, 1, batchStride);
    }
}
