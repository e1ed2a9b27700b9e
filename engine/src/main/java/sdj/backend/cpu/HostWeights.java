package sdj.backend.cpu;

import java.lang.foreign.MemorySegment;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * Reading fp32 CPU tensors where they are: the heap array of an activation, or, for a weight used in
 * place from a memory-mapped checkpoint, its segment (little-endian fp32). Nothing here copies a weight
 * matrix; 1-D weights (biases, norm affines) are read into a small array per call.
 */
final class HostWeights {
    private HostWeights() {
    }

    /** True for an fp32 host tensor whose elements live outside the heap (e.g. a mapped checkpoint). */
    static boolean inSegment(Tensor t) {
        return t.dtype() == DType.F32 && t.storage().heapFloats() == null && t.device() == sdj.tensor.Device.CPU;
    }

    /**
     * The tensor itself when its fp32 elements can be read in place (a heap array or a segment, any
     * strides), else a contiguous fp32 heap copy (another dtype).
     */
    static Tensor readable(Tensor t) {
        return t.dtype() == DType.F32 && (t.storage().heapFloats() != null || inSegment(t)) ? t
                : Tensor.of(t.toFloatArray(), t.shape());
    }

    /** An operand over {@code t}'s storage (heap array or segment) from {@link #readable}: (off, rs, cs) in floats. */
    static Gemm.Operand operand(Tensor t, long off, int rs, int cs) {
        float[] heap = t.storage().heapFloats();
        int o = Math.toIntExact(off);
        return heap != null ? new Gemm.Operand(heap, o, rs, cs) : Gemm.Operand.inSegment(t.storage().segment(), o, rs, cs);
    }

    /** A contiguous 2-D weight [rows, cols] (or [O, C, kh, kw] read as [O, C·kh·kw]) as a row-major operand. */
    static Gemm.Operand rowMajor(Tensor t, int cols) {
        if (inSegment(t) && t.isContiguous()) {
            return Gemm.Operand.inSegment(t.storage().segment(), Math.toIntExact(t.offset()), cols, 1);
        }
        return Gemm.Operand.rowMajor(t.floats(), 0, cols);
    }

    /**
     * The elements of a small weight (a bias, a norm's affine, CLIP's position table) read whole once per call: its
     * heap array when it is a whole one, else read from its segment into a transient array. Matrices and filter
     * banks are read in place instead: a per-call copy of each is gigabytes a step for a mapped SD v1.
     */
    static float[] vector(Tensor t) {
        if (inSegment(t) && t.isContiguous()) {
            float[] out = new float[Math.toIntExact(t.numel())];
            MemorySegment.copy(t.storage().segment(), Gemm.SEGMENT_FLOAT, 4 * t.offset(), out, 0, out.length);
            return out;
        }
        return t.floats();
    }

    /** Copies {@code n} elements of row {@code row} of a contiguous [rows, n] tensor into dst[dstOff...]. */
    static void copyRow(Tensor t, long row, int n, float[] dst, int dstOff) {
        copyRange(t, row * n, dst, dstOff, n);
    }

    /** Copies elements [start, start + count) of a contiguous tensor into dst[dstOff...]. */
    static void copyRange(Tensor t, long start, float[] dst, int dstOff, int count) {
        long from = t.offset() + start;
        float[] heap = t.storage().heapFloats();
        if (heap != null) {
            System.arraycopy(heap, Math.toIntExact(from), dst, dstOff, count);
        } else {
            MemorySegment.copy(t.storage().segment(), Gemm.SEGMENT_FLOAT, 4 * from, dst, dstOff, count);
        }
    }
}
