package sdj.backend.cpu;

import java.util.Arrays;
import sdj.tensor.ActivationArena;
import sdj.tensor.AdamWStep;
import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.BinaryOp;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;
import sdj.tensor.UnaryOp;

/**
 * The CPU backend: fp32 heap arrays, the Vector API kernels ({@link VectorMath}) and our GEMM
 * ({@link Gemm}), in parallel over the cores ({@link Parallel}). Each family lives in its own class.
 */
public final class CpuBackend implements Backend {
    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public boolean available() {
        return true;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    // ------------------------------------------------------------------ memory and layout

    @Override
    public Tensor transfer(Tensor t, Device target, DType dtype) {
        if (target != Device.CPU || t.isCuda()) {
            throw new IllegalArgumentException("the CPU backend copies only host tensors, not " + t + " to " + target.label());
        }
        return dtype == null || dtype == t.dtype() ? t : t.to(dtype);
    }

    @Override
    public Tensor copy(Tensor t, DType dtype) {
        DType dt = dtype == null ? DType.F32 : dtype;
        return dt == DType.F32 ? Tensor.of(t.copyInto(ActivationArena.floats(Math.toIntExact(t.numel()))), t.shape())
                : t.to(dt);
    }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        // CPU results are fp32, whatever the inputs were stored as
        return Tensor.of(ActivationArena.floats(Math.toIntExact(Shape.numel(shape))), shape);
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        float[] out = heapArrayOf(dst, "copyInto");
        float[] v = src.floats();
        if (dst.isContiguous()) { // one block (a gradient into its kept storage): in parallel slices
            int base = (int) dst.offset();
            Parallel.range(v.length, 1, (lo, hi) -> System.arraycopy(v, lo, out, base + lo, hi - lo));
            return;
        }
        int[] strides = dst.strides();
        if (dst.dim() > 0 && strides[dst.dim() - 1] == 1) {
            forEachRow(dst, (i, off, len) -> System.arraycopy(v, i, out, off, len));
        } else {
            forEachOffset(dst, (i, off) -> out[off] = v[i]);
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        return CpuBinary.apply(op, a, b);
    }

    @Override
    public Tensor affine(Tensor x, float scale, float shift) {
        return CpuUnary.affine(x, scale, shift);
    }

    @Override
    public Result unary(UnaryOp op, float p, Tensor x, boolean keep) {
        return CpuUnary.apply(op, p, x, keep);
    }

    @Override
    public Result geglu(Tensor x, boolean keep) {
        return CpuGeglu.geglu(x, keep);
    }

    @Override
    public Result softmax(Tensor x, boolean keep) {
        return CpuSoftmax.softmax(x, keep);
    }

    @Override
    public Tensor sum(Tensor x, boolean[] reduce, int[] outShape) {
        try (var scope = Autograd.noGrad()) {
            return CpuReduce.sum(x, reduce, outShape);
        }
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return CpuReduce.sumOfSquares(x);
    }

    // ------------------------------------------------------------------ products

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        try (var scope = Autograd.noGrad()) {
            return CpuMatMul.product(a, b, null);
        }
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        try (var scope = Autograd.noGrad()) {
            return CpuMatMul.linear(x, weight, bias);
        }
    }

    @Override
    public Tensor linearSum(Tensor x, Tensor weight, Tensor bias, Tensor x2, Tensor weight2) {
        try (var scope = Autograd.noGrad()) {
            return CpuMatMul.linearSum(x, weight, bias, x2, weight2);
        }
    }

    @Override
    public Result conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int[] padding, boolean keep) {
        return CpuConv.conv2d(x, weight, bias, stride, padding, keep);
    }

    // ------------------------------------------------------------------ normalisation, attention, lookup

    @Override
    public Result groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu, boolean keep) {
        return CpuNorm.groupNorm(x, groups, weight, bias, eps, silu, keep);
    }

    @Override
    public Result layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, boolean keep) {
        return CpuNorm.layerNorm(x, weight, bias, eps, keep);
    }

    @Override
    public Result attention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale, boolean keep) {
        try (var scope = Autograd.noGrad()) {
            return CpuAttention.attention(q, k, v, heads, causal, scale, keep);
        }
    }

    @Override
    public Result embedding(Tensor ids, Tensor weight, boolean keep) {
        return CpuLookup.embedding(ids, weight, keep);
    }

    @Override
    public Result upsampleNearest2x(Tensor x, boolean keep) {
        return CpuLookup.upsampleNearest2x(x, keep);
    }

    // ------------------------------------------------------------------ in place

    @Override
    public void addInPlace(Tensor dst, Tensor src, float alpha) {
        float[] out = heapArrayOf(dst, "add_");
        float[] v = (Arrays.equals(src.shape(), dst.shape()) ? src : src.expand(dst.shape())).toFloatArray();
        if (dst.isContiguous()) {
            int base = (int) dst.offset();
            Parallel.range(v.length, 2, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    out[base + i] += alpha * v[i];
                }
            });
            return;
        }
        forEachOffset(dst, (i, off) -> out[off] += alpha * v[i]);
    }

    @Override
    public void scaleInPlace(Tensor dst, float s) {
        float[] out = heapArrayOf(dst, "mul_");
        if (dst.isContiguous()) {
            int base = (int) dst.offset();
            Parallel.range(Math.toIntExact(dst.numel()), 1, (lo, hi) -> {
                for (int i = base + lo; i < base + hi; i++) {
                    out[i] *= s;
                }
            });
            return;
        }
        forEachOffset(dst, (i, off) -> out[off] *= s);
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        CpuOptim.adamw(param, grad, m, v, step);
    }

    /** The fp32 heap array behind dst: in-place updates write only where the CPU's own results live. */
    private static float[] heapArrayOf(Tensor dst, String op) {
        float[] heap = dst.storage().heapFloats();
        if (heap == null) {
            throw new IllegalArgumentException(op + " writes into fp32 heap tensors only, got " + dst
                    + " (a memory-mapped or non-fp32 tensor); copy it first (Tensor.of(t.toFloatArray(), t.shape()))");
        }
        return heap;
    }

    @FunctionalInterface
    private interface ElementAt {
        void accept(int index, int offset);
    }

    @FunctionalInterface
    private interface RowAt {
        void accept(int index, int offset, int length);
    }

    /** Visits dst's rows (runs along the last dim) in row-major order: first element index, storage offset, length. */
    private static void forEachRow(Tensor dst, RowAt visit) {
        int[] shape = dst.shape();
        int last = shape[shape.length - 1];
        int[] rowShape = Arrays.copyOf(shape, shape.length - 1);
        int[] rowStrides = Arrays.copyOf(dst.strides(), shape.length - 1);
        Tensor rows = new Tensor(dst.storage(), rowShape, rowStrides, dst.offset());
        forEachOffset(rows, (i, off) -> visit.accept(i * last, off, last));
    }

    /** Visits dst's elements in row-major order with their offsets in its storage. */
    private static void forEachOffset(Tensor dst, ElementAt visit) {
        int[] shape = dst.shape();
        int[] strides = dst.strides();
        int n = Math.toIntExact(Shape.numel(shape));
        int[] idx = new int[shape.length];
        long off = dst.offset();
        for (int i = 0; i < n; i++) {
            visit.accept(i, (int) off);
            for (int d = shape.length - 1; d >= 0; d--) {
                off += strides[d];
                if (++idx[d] < shape[d]) {
                    break;
                }
                off -= (long) strides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }
}
