package sdj.ops;

import java.util.Arrays;
import sdj.backend.cpu.Parallel;
import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** add, sub, mul, div with NumPy broadcasting; gradients are summed back to each input's shape. */
public final class Binary {
    private Binary() {
    }

    @FunctionalInterface
    interface Op {
        float apply(float a, float b);
    }

    public static Tensor add(Tensor a, Tensor b) {
        if (a.isCuda() || b.isCuda()) {
            return CudaDispatch.add(a, b);
        }
        Tensor y = compute(a, b, Float::sum, VectorMath.ADD);
        return Autograd.record(y, "add", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? Reduce.sumToShape(g, a.shape()) : null,
            b.requiresGrad() ? Reduce.sumToShape(g, b.shape()) : null});
    }

    public static Tensor sub(Tensor a, Tensor b) {
        if (a.isCuda() || b.isCuda()) {
            return CudaDispatch.sub(a, b);
        }
        Tensor y = compute(a, b, (x, z) -> x - z);
        return Autograd.record(y, "sub", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? Reduce.sumToShape(g, a.shape()) : null,
            b.requiresGrad() ? Reduce.sumToShape(g.neg(), b.shape()) : null});
    }

    public static Tensor mul(Tensor a, Tensor b) {
        if (a.isCuda() || b.isCuda()) {
            return CudaDispatch.mul(a, b);
        }
        Tensor y = compute(a, b, (x, z) -> x * z, VectorMath::mul);
        return Autograd.record(y, "mul", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? Reduce.sumToShape(compute(g, b, (x, z) -> x * z), a.shape()) : null,
            b.requiresGrad() ? Reduce.sumToShape(compute(g, a, (x, z) -> x * z), b.shape()) : null});
    }

    public static Tensor div(Tensor a, Tensor b) {
        if (a.isCuda() || b.isCuda()) {
            return CudaDispatch.div(a, b);
        }
        Tensor y = compute(a, b, (x, z) -> x / z);
        return Autograd.record(y, "div", new Tensor[] {a, b}, g -> {
            Tensor ga = a.requiresGrad() ? Reduce.sumToShape(compute(g, b, (x, z) -> x / z), a.shape()) : null;
            Tensor gb = null;
            if (b.requiresGrad()) {
                // d(a/b)/db = -a/b² = -y/b
                Tensor gy = compute(g, y, (x, z) -> x * z);
                gb = Reduce.sumToShape(compute(gy, b, (x, z) -> -x / z), b.shape());
            }
            return new Tensor[] {ga, gb};
        });
    }

    /** A vectorized op over same-shape arrays, out[lo, hi) = x[lo, hi) op z[lo, hi). */
    @FunctionalInterface
    interface ArrayOp {
        void apply(float[] x, float[] z, float[] out, int lo, int hi);
    }

    static Tensor compute(Tensor a, Tensor b, Op op) {
        return compute(a, b, op, null);
    }

    /**
     * Applies op elementwise over the broadcast shape of a and b; vop, when given, is the same op
     * vectorized (it also serves a's rows plus a trailing-dimension bias). Not recorded.
     */
    static Tensor compute(Tensor a, Tensor b, Op op, ArrayOp vop) {
        int[] outShape = Shape.broadcast(a.shape(), b.shape());
        int n = Math.toIntExact(Shape.numel(outShape));
        float[] out = new float[n];
        if (Arrays.equals(a.shape(), outShape) && Arrays.equals(b.shape(), outShape)) {
            float[] x = a.floats();
            float[] z = b.floats();
            if (vop != null) {
                Parallel.range(n, 2, (lo, hi) -> vop.apply(x, z, out, lo, hi));
            } else {
                Parallel.range(n, 2, (lo, hi) -> {
                    for (int i = lo; i < hi; i++) {
                        out[i] = op.apply(x[i], z[i]);
                    }
                });
            }
        } else if (vop == VectorMath.ADD && isRowBias(a, b, outShape)) {
            float[] x = a.floats();
            float[] bias = b.floats();
            int p = bias.length;
            Parallel.range(n / p, 2L * p, (lo, hi) -> VectorMath.addRows(x, bias, out, lo, hi));
        } else if (b.numel() == 1 && Arrays.equals(a.shape(), outShape)) {
            float[] x = a.floats();
            float s = b.floats()[0];
            for (int i = 0; i < n; i++) {
                out[i] = op.apply(x[i], s);
            }
        } else {
            // Broadcast operand(s): the smaller one repeats with a period along the trailing dims when it is
            // a suffix-shaped tensor (bias [C] over [N, C]); otherwise expand and copy.
            float[] x = a.expand(outShape).toFloatArray();
            float[] z = b.expand(outShape).toFloatArray();
            Parallel.range(n, 2, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    out[i] = op.apply(x[i], z[i]);
                }
            });
        }
        return Tensor.of(out, outShape);
    }

    /** b is a bias over a's last dimension: shape [..1.., C] against a of shape [.., C]. */
    private static boolean isRowBias(Tensor a, Tensor b, int[] outShape) {
        int[] bs = b.shape();
        return Arrays.equals(a.shape(), outShape) && bs.length > 0 && bs[bs.length - 1] == outShape[outShape.length - 1]
                && b.numel() == bs[bs.length - 1] && b.numel() > 1;
    }
}
