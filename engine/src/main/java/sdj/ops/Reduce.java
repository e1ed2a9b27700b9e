package sdj.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sdj.backend.cpu.Parallel;
import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** Sums and means over dimensions, and the "sum back to a broadcast source shape" of gradients. */
public final class Reduce {
    private Reduce() {
    }

    public static Tensor sumAll(Tensor x) {
        int[] shape = x.shape();
        if (x.isCuda()) {
            // On the device: an fp32 sum, and the gradient broadcast from the device scalar in x's dtype (no host read).
            boolean[] all = new boolean[shape.length];
            Arrays.fill(all, true);
            Tensor y = CudaDispatch.sum(x, all, new int[0]);
            int[] ones = new int[shape.length];
            Arrays.fill(ones, 1);
            return Autograd.record(y, "sum", new Tensor[] {x},
                    g -> new Tensor[] {g.reshape(ones).expand(shape).to(x.dtype())});
        }
        float[] v = x.floats();
        double s = 0;
        for (float f : v) {
            s += f;
        }
        Tensor y = Tensor.scalar((float) s).reshape();
        return Autograd.record(y, "sum", new Tensor[] {x}, g -> new Tensor[] {Tensor.full(g.item(), shape)});
    }

    public static Tensor meanAll(Tensor x) {
        return sumAll(x).mul(1f / x.numel());
    }

    public static Tensor mean(Tensor x, int[] dims, boolean keepDim) {
        long count = 1;
        for (int d : dims) {
            count *= x.size(d);
        }
        return sum(x, dims, keepDim).mul(1f / count);
    }

    /** Sum over the given dims. Accumulates in double so long reductions stay accurate. */
    public static Tensor sum(Tensor x, int[] dims, boolean keepDim) {
        int rank = x.dim();
        boolean[] reduce = new boolean[rank];
        for (int d : dims) {
            reduce[Shape.wrap(d, rank)] = true;
        }
        int[] keepShape = x.shape();
        for (int d = 0; d < rank; d++) {
            if (reduce[d]) {
                keepShape[d] = 1;
            }
        }
        int[] inShape = x.shape();
        if (x.isCuda()) {
            Tensor y = CudaDispatch.sum(x, reduce, keepDim ? keepShape : keptShape(inShape, reduce)); // fp32
            return Autograd.record(y, "sum_dims", new Tensor[] {x},
                    g -> new Tensor[] {g.reshape(keepShape).expand(inShape).to(x.dtype())});
        }
        // Move reduced dims last: then every output element is a contiguous run of `inner` values.
        int[] kept = keptShape(inShape, reduce);
        int inner = 1;
        for (int d = 0; d < rank; d++) {
            inner *= reduce[d] ? x.size(d) : 1;
        }
        float[] v;
        try (var scope = Autograd.noGrad()) {
            v = x.permute(keptFirst(reduce)).floats();
        }
        int outer = inner == 0 ? (int) Shape.numel(kept) : v.length / inner;
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
        Tensor y = Tensor.of(out, keepDim ? keepShape : kept);
        return Autograd.record(y, "sum_dims", new Tensor[] {x},
                g -> new Tensor[] {g.reshape(keepShape).expand(inShape).contiguous()});
    }

    /** The permutation that puts the kept dims first, then the reduced ones, each in order. */
    public static int[] keptFirst(boolean[] reduce) {
        int[] perm = new int[reduce.length];
        int k = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int d = 0; d < reduce.length; d++) {
                if (reduce[d] == (pass == 1)) {
                    perm[k++] = d;
                }
            }
        }
        return perm;
    }

    /** The sizes of the dims not reduced. */
    public static int[] keptShape(int[] shape, boolean[] reduce) {
        int[] kept = new int[shape.length];
        int k = 0;
        for (int d = 0; d < shape.length; d++) {
            if (!reduce[d]) {
                kept[k++] = shape[d];
            }
        }
        return Arrays.copyOf(kept, k);
    }

    /** Sums a gradient of a broadcast result back to the shape of the operand that was broadcast. */
    public static Tensor sumToShape(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) {
            return g;
        }
        int lead = gs.length - shape.length;
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) {
                dims.add(i);
            }
        }
        Tensor s = sum(g, dims.stream().mapToInt(Integer::intValue).toArray(), true).reshape(shape);
        return s.dtype() == g.dtype() ? s : s.to(g.dtype()); // a CUDA sum is fp32; the gradient keeps g's dtype
    }
}
