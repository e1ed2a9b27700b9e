package sdj.backend.cpu;

import java.util.Arrays;
import sdj.tensor.ActivationArena;
import sdj.tensor.BinaryOp;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** add, sub, mul, div with NumPy broadcasting on fp32 arrays. */
final class CpuBinary {
    private CpuBinary() {
    }

    @FunctionalInterface
    interface Op {
        float apply(float a, float b);
    }

    /** A vectorized op over same-shape arrays, out[lo, hi) = x[lo, hi) op z[lo, hi). */
    @FunctionalInterface
    interface ArrayOp {
        void apply(float[] x, float[] z, float[] out, int lo, int hi);
    }

    static Tensor apply(BinaryOp op, Tensor a, Tensor b) {
        return switch (op) {
            case ADD -> compute(a, b, Float::sum, VectorMath.ADD);
            case SUB -> compute(a, b, (x, z) -> x - z, null);
            case MUL -> compute(a, b, (x, z) -> x * z, VectorMath::mul);
            case DIV -> compute(a, b, (x, z) -> x / z, null);
        };
    }

    /**
     * Applies op elementwise over the broadcast shape of a and b; vop, when given, is the same op
     * vectorized (it also serves a's rows plus a trailing-dimension bias).
     */
    private static Tensor compute(Tensor a, Tensor b, Op op, ArrayOp vop) {
        int[] outShape = Shape.broadcast(a.shape(), b.shape());
        int n = Math.toIntExact(Shape.numel(outShape));
        float[] out = ActivationArena.floats(n);
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
            float[] bias = HostWeights.vector(b); // a Linear's or embedding's bias may be read from a mapped file
            int p = bias.length;
            Parallel.range(n / p, 2L * p, (lo, hi) -> VectorMath.addRows(x, bias, out, lo, hi));
        } else if (b.numel() == 1 && Arrays.equals(a.shape(), outShape)) {
            float[] x = a.floats();
            float s = b.floats()[0];
            for (int i = 0; i < n; i++) {
                out[i] = op.apply(x[i], s);
            }
        } else {
            // broadcast operand(s): expanded views copied out (into recycled arrays: they die with this op)
            float[] x = broadcastValues(a, outShape, n);
            float[] z = broadcastValues(b, outShape, n);
            Parallel.range(n, 2, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    out[i] = op.apply(x[i], z[i]);
                }
            });
        }
        return Tensor.of(out, outShape);
    }

    /** t's elements broadcast to outShape in row-major order: t's own array when it already is that. */
    private static float[] broadcastValues(Tensor t, int[] outShape, int n) {
        if (Arrays.equals(t.shape(), outShape)) {
            return t.floats();
        }
        return t.expand(outShape).copyInto(ActivationArena.floats(n));
    }

    /**
     * b is a bias over a's trailing dimensions: shape [..1.., D1.., Dk] against a of shape [.., D1.., Dk]
     * (a Linear's bias over channels, CLIP's position embeddings [N, W] over [B, N, W]).
     */
    private static boolean isRowBias(Tensor a, Tensor b, int[] outShape) {
        int[] bs = b.shape();
        if (!Arrays.equals(a.shape(), outShape) || b.numel() <= 1) {
            return false;
        }
        int lead = 0;
        while (bs[lead] == 1) {
            lead++;
        }
        int k = bs.length - lead;
        if (k > outShape.length) {
            return false;
        }
        for (int i = 0; i < k; i++) {
            if (bs[lead + i] != outShape[outShape.length - k + i]) {
                return false;
            }
        }
        return true;
    }
}
