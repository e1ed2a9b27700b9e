package sdj.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
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

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen to one D vector of doubles. */
    private static final VectorSpecies<Float> HALF = VectorSpecies.of(float.class,
            VectorShape.forBitSize(D.vectorBitSize() / 2));

    /** Elements per partial sum of {@link #sumOfSquares}: fixed, so the result does not depend on the threads. */
    private static final int SQUARES_CHUNK = 1 << 16;

    /**
     * Σ x² with float32 squares accumulated in double: in chunks of 2^16 elements (in double lanes, two
     * accumulators), the chunks' sums added in order.
     */
    static double sumOfSquares(Tensor x) {
        float[] v = x.isContiguous() && x.storage().heapFloats() != null ? x.storage().heapFloats() : x.floats();
        int base = v == x.storage().heapFloats() ? (int) x.offset() : 0;
        int n = Math.toIntExact(x.numel());
        double[] partial = new double[(n + SQUARES_CHUNK - 1) / SQUARES_CHUNK];
        Parallel.range(partial.length, SQUARES_CHUNK, (lo, hi) -> {
            for (int c = lo; c < hi; c++) {
                int from = base + c * SQUARES_CHUNK, to = base + Math.min(n, (c + 1) * SQUARES_CHUNK);
                partial[c] = squares(v, from, to);
            }
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    private static double squares(float[] v, int from, int to) {
        DoubleVector a = DoubleVector.zero(D);
        DoubleVector b = DoubleVector.zero(D);
        int step = HALF.length();
        int i = from;
        for (int end = to - 2 * step; i <= end; i += 2 * step) {
            FloatVector x = FloatVector.fromArray(HALF, v, i);
            FloatVector y = FloatVector.fromArray(HALF, v, i + step);
            a = a.add((DoubleVector) x.mul(x).convertShape(VectorOperators.F2D, D, 0));
            b = b.add((DoubleVector) y.mul(y).convertShape(VectorOperators.F2D, D, 0));
        }
        double s = a.add(b).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            s += v[i] * v[i];
        }
        return s;
    }
}
