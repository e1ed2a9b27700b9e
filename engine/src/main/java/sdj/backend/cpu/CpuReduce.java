package sdj.backend.cpu;

import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** Sums over dimensions, accumulated in double so long reductions stay accurate. */
final class CpuReduce {
    private CpuReduce() {
    }

    static Tensor sum(Tensor x, boolean[] reduce, int[] outShape) {
        int rank = x.dim();
        // Move reduced dims last: then every output element is a contiguous run of `inner` values.
        int inner = 1;
        for (int d = 0; d < rank; d++) {
            inner *= reduce[d] ? x.size(d) : 1;
        }
        float[] v = x.permute(Shape.keptFirst(reduce)).floats();
        int outer = inner == 0 ? (int) Shape.numel(outShape) : v.length / inner;
        float[] out = new float[outer];
        int len = inner;
        Parallel.range(outer, len, (lo, hi) -> {
            for (int o = lo; o < hi; o++) {
                double s = 0;
                int base = o * len;
                for (int i = 0; i < len; i++) {
                    s += v[base + i];
                }
                out[o] = (float) s;
            }
        });
        return Tensor.of(out, outShape);
    }

    /** Elements per partial sum of {@link #sumOfSquares}: fixed, so the result does not depend on the threads. */
    private static final int SQUARES_CHUNK = 1 << 16;

    /**
     * Σ x² with float32 squares accumulated in double: in chunks of 2^16 elements (four interleaved partial sums
     * each), the chunks' sums added in order.
     */
    static double sumOfSquares(Tensor x) {
        float[] v = x.isContiguous() && x.storage().heapFloats() != null ? x.storage().heapFloats() : x.floats();
        int base = v == x.storage().heapFloats() ? (int) x.offset() : 0;
        int n = Math.toIntExact(x.numel());
        double[] partial = new double[(n + SQUARES_CHUNK - 1) / SQUARES_CHUNK];
        Parallel.range(partial.length, SQUARES_CHUNK, (lo, hi) -> {
            for (int c = lo; c < hi; c++) {
                int from = base + c * SQUARES_CHUNK, to = base + Math.min(n, (c + 1) * SQUARES_CHUNK);
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int i = from;
                for (; i + 3 < to; i += 4) {
                    s0 += v[i] * v[i];
                    s1 += v[i + 1] * v[i + 1];
                    s2 += v[i + 2] * v[i + 2];
                    s3 += v[i + 3] * v[i + 3];
                }
                for (; i < to; i++) {
                    s0 += v[i] * v[i];
                }
                partial[c] = (s0 + s1) + (s2 + s3);
            }
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }
}
