package sdj.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sdj.tensor.Autograd;
import sdj.tensor.Backends;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Sums and means over dimensions, and the "sum back to a broadcast source shape" of gradients. Sums
 * accumulate in double on the CPU and fp32 on the GPU, and are fp32 on both (an fp16 sum of a loss would
 * overflow long before its mean does); the gradient broadcasts g back in the input's dtype.
 */
public final class Reduce {
    private Reduce() {
    }

    public static Tensor sumAll(Tensor x) {
        int[] all = new int[x.dim()];
        Arrays.setAll(all, d -> d);
        return sum("sum", x, all, false);
    }

    /** Σ x² over all elements in fp32 squares (a gradient norm's core; not recorded). */
    public static double sumOfSquares(Tensor x) {
        return Backends.of("sum_of_squares", x).sumOfSquares(x);
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

    /** Sum over the given dims. */
    public static Tensor sum(Tensor x, int[] dims, boolean keepDim) {
        return sum("sum_dims", x, dims, keepDim);
    }

    private static Tensor sum(String name, Tensor x, int[] dims, boolean keepDim) {
        int rank = x.dim();
        boolean[] reduce = new boolean[rank];
        for (int d : dims) {
            reduce[Shape.wrap(d, rank)] = true;
        }
        int[] inShape = x.shape();
        int[] keepShape = x.shape();
        for (int d = 0; d < rank; d++) {
            if (reduce[d]) {
                keepShape[d] = 1;
            }
        }
        Tensor y = Backends.of(name, x).sum(x, reduce, keepDim ? keepShape : Shape.keptShape(inShape, reduce));
        return Autograd.record(y, name, new Tensor[] {x}, g -> new Tensor[] {
            Backends.of(name, g).copy(g.reshape(keepShape).expand(inShape), x.isCuda() ? x.dtype() : null)});
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
