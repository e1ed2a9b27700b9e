package sdj.ops;

import java.util.Arrays;
import sdj.backend.cpu.Gemm;
import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * matmul over the last two dims with broadcast batch dims, and linear (x·Wᵀ + b). Transposed views
 * are read in place by the GEMM (no copy), so {@code a.matmul(w.transpose(0, 1))} is as fast as a
 * plain product.
 */
public final class MatMul {
    private MatMul() {
    }

    public static Tensor matmul(Tensor a, Tensor b) {
        requireMatmulShapes(a, b);
        if (a.isCuda() || b.isCuda()) {
            return CudaDispatch.matmul(a, b);
        }
        Tensor y = product(a, b);
        return Autograd.record(y, "matmul", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? gradA(g, a, b) : null,
            b.requiresGrad() ? gradB(g, a, b) : null});
    }

    private static void requireMatmulShapes(Tensor a, Tensor b) {
        if (a.dim() < 2 || b.dim() < 2) {
            throw new IllegalArgumentException("matmul needs operands of rank ≥ 2, got " + Shape.str(a.shape()) + " and "
                    + Shape.str(b.shape()));
        }
        if (a.size(-1) != b.size(-2)) {
            throw new IllegalArgumentException("matmul shapes " + Shape.str(a.shape()) + " · " + Shape.str(b.shape())
                    + " do not agree in the inner dimension");
        }
    }

    /** y = x·Wᵀ + bias with W stored [out, in] as in PyTorch's nn.Linear. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        if (x.isCuda() || weight.isCuda()) {
            return CudaDispatch.linear(x, weight, bias);
        }
        Tensor wt = weight.transpose(0, 1);
        if (bias == null || bias.dim() != 1 || bias.size(0) != weight.size(0)) {
            Tensor y = matmul(x, wt);
            return bias == null ? y : y.add(bias);
        }
        requireMatmulShapes(x, wt);
        // The GEMM adds into output rows that start as the bias: no second output array and pass for "+ b".
        Tensor y = product(x, wt, bias.toFloatArray());
        return Autograd.record(y, "linear", new Tensor[] {x, wt, bias}, g -> new Tensor[] {
            x.requiresGrad() ? gradA(g, x, wt) : null,
            wt.requiresGrad() ? gradB(g, x, wt) : null,
            bias.requiresGrad() ? Reduce.sumToShape(g, bias.shape()) : null});
    }

    private static Tensor gradA(Tensor g, Tensor a, Tensor b) {
        return Reduce.sumToShape(product(g, b.transpose(-1, -2)), a.shape());
    }

    private static Tensor gradB(Tensor g, Tensor a, Tensor b) {
        if (b.dim() == 2 && a.dim() > 2) {
            // Fold all batch rows together: dW = Σ_batches aᵀ·g as one big product.
            Tensor a2 = a.reshape(-1, a.size(-1));
            Tensor g2 = g.reshape(-1, g.size(-1));
            return product(a2.transpose(0, 1), g2);
        }
        return Reduce.sumToShape(product(a.transpose(-1, -2), g), b.shape());
    }

    /** The raw product, not recorded. */
    static Tensor product(Tensor a, Tensor b) {
        return product(a, b, null);
    }

    /** The raw product plus, when given, rowBias (length n) on every output row; not recorded. */
    private static Tensor product(Tensor a, Tensor b, float[] rowBias) {
        try (var scope = Autograd.noGrad()) {
            if (b.dim() == 2 && a.dim() > 2) {
                int[] outShape = a.shape();
                outShape[outShape.length - 1] = b.size(1);
                Tensor a2 = a.reshape(-1, a.size(-1));
                return product(a2, b, rowBias).reshape(outShape);
            }
            a = heapF32(a);
            b = heapF32(b);
            int m = a.size(-2);
            int k = a.size(-1);
            int n = b.size(-1);
            int[] aBatch = Arrays.copyOf(a.shape(), a.dim() - 2);
            int[] bBatch = Arrays.copyOf(b.shape(), b.dim() - 2);
            int[] batchShape = Shape.broadcast(aBatch, bBatch);
            int[] outShape = Arrays.copyOf(batchShape, batchShape.length + 2);
            outShape[batchShape.length] = m;
            outShape[batchShape.length + 1] = n;
            int batch = (int) Shape.numel(batchShape);
            float[] out = new float[Math.toIntExact((long) batch * m * n)];
            if (rowBias != null) {
                for (int row = 0; row < batch * m; row++) {
                    System.arraycopy(rowBias, 0, out, row * n, n);
                }
            }
            Tensor ae = a.expand(concat(batchShape, m, k));
            Tensor be = b.expand(concat(batchShape, k, n));
            int[] aStrides = ae.strides();
            int[] bStrides = be.strides();
            float[] ad = a.storage().heapFloats();
            float[] bd = b.storage().heapFloats();
            int r = batchShape.length;
            long flops = 2L * m * n * k;
            Gemm.BatchBody body = i -> {
                long aOff = ae.offset();
                long bOff = be.offset();
                int rem = i;
                for (int d = r - 1; d >= 0; d--) {
                    int idx = rem % batchShape[d];
                    rem /= batchShape[d];
                    aOff += (long) idx * aStrides[d];
                    bOff += (long) idx * bStrides[d];
                }
                Gemm.sgemm(m, n, k, new Gemm.Operand(ad, (int) aOff, aStrides[r], aStrides[r + 1]),
                        new Gemm.Operand(bd, (int) bOff, bStrides[r], bStrides[r + 1]), out, i * m * n, n, rowBias != null);
            };
            if (batch > 1 && flops < 50_000_000L) {
                Gemm.batched(batch, flops, body);
            } else {
                for (int i = 0; i < batch; i++) {
                    body.run(i);
                }
            }
            return Tensor.of(out, outShape);
        }
    }

    /** The tensor itself when it lives in an fp32 heap array (any strides), else a contiguous fp32 copy. */
    static Tensor heapF32(Tensor t) {
        return t.storage().heapFloats() != null && t.dtype() == DType.F32 ? t : Tensor.of(t.toFloatArray(), t.shape());
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }
}
