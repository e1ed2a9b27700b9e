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
}
