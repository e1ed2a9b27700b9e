package sdj.tensor;

/** Reading a strided view's elements out of its storage in row-major order (the host side of Tensor). */
final class Elements {
    private Elements() {
    }

    /** out ← the view's elements as fp32, one innermost run at a time. */
    static void gatherFloats(Storage storage, int[] shape, int[] strides, long offset, float[] out) {
        int rank = shape.length;
        if (rank == 0) {
            out[0] = storage.getFloat(offset);
            return;
        }
        float[] heap = storage.heapFloats();
        int inner = shape[rank - 1];
        int innerStride = strides[rank - 1];
        int[] idx = new int[rank];
        long base = offset;
        for (int o = 0; o < out.length; o += inner) {
            if (heap != null) {
                int p = (int) base;
                for (int j = 0; j < inner; j++, p += innerStride) {
                    out[o + j] = heap[p];
                }
            } else {
                long p = base;
                for (int j = 0; j < inner; j++, p += innerStride) {
                    out[o + j] = storage.getFloat(p);
                }
            }
            for (int d = rank - 2; d >= 0; d--) {
                idx[d]++;
                base += strides[d];
                if (idx[d] < shape[d]) {
                    break;
                }
                base -= (long) strides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }

    /** The view's elements as longs (exact for integer dtypes). */
    static long[] gatherLongs(Storage storage, int[] shape, int[] strides, long offset) {
        long[] out = new long[Math.toIntExact(Shape.numel(shape))];
        int[] idx = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            long p = offset;
            for (int d = 0; d < shape.length; d++) {
                p += (long) idx[d] * strides[d];
            }
            out[i] = storage.getLong(p);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }
}
