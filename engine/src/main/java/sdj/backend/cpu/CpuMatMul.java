package sdj.backend.cpu;

import java.util.Arrays;
import sdj.tensor.ActivationArena;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Products over the last two dims with broadcast batch dims on the CPU GEMM. Transposed views are read
 * in place through their strides (no copy), so {@code a·wᵀ} is as fast as a plain product.
 */
final class CpuMatMul {
    private CpuMatMul() {
    }

    static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Tensor wt = weight.transpose(0, 1);
        if (bias == null) {
            return product(x, wt, null);
        }
        // The GEMM adds into output rows that start as the bias: no second output array and pass for "+ b".
        return product(x, wt, HostWeights.vector(bias));
    }

    /** x·Wᵀ + bias + x2·W2ᵀ: the second GEMM accumulates into the first one's output array. */
    static Tensor linearSum(Tensor x, Tensor weight, Tensor bias, Tensor x2, Tensor weight2) {
        Tensor y = linear(x, weight, bias);
        return product(x2, weight2.transpose(0, 1), null, y.floats());
    }

    /**
     * The raw product plus, when given, rowBias (length n) on every output row. Operands are read in
     * place, from the heap or (weights of a memory-mapped checkpoint) from their segment.
     */
    static Tensor product(Tensor a, Tensor b, float[] rowBias) {
        return product(a, b, rowBias, null);
    }

    /** As {@link #product(Tensor, Tensor, float[])}, or, given addTo (the output's size), a·b added to it in place. */
    private static Tensor product(Tensor a, Tensor b, float[] rowBias, float[] addTo) {
        if (b.dim() == 2 && a.dim() > 2) {
            int[] outShape = a.shape();
            outShape[outShape.length - 1] = b.size(1);
            Tensor a2 = a.reshape(-1, a.size(-1));
            return product(a2, b, rowBias, addTo).reshape(outShape);
        }
        a = HostWeights.readable(a);
        b = HostWeights.readable(b);
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
        int size = Math.toIntExact((long) batch * m * n);
        if (addTo != null && addTo.length != size) {
            throw new IllegalArgumentException("product of " + size + " elements added to an array of " + addTo.length);
        }
        float[] out = addTo != null ? addTo : ActivationArena.floats(size);
        // the bias is where each output tile starts, so it costs no pass of its own (ignored when adding to addTo)
        float[] start = addTo != null ? null : rowBias;
        Tensor ae = a.expand(concat(batchShape, m, k));
        Tensor be = b.expand(concat(batchShape, k, n));
        int[] aStrides = ae.strides();
        int[] bStrides = be.strides();
        Tensor as = a;
        Tensor bs = b;
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
            Gemm.Operand left = HostWeights.operand(as, aOff, aStrides[r], aStrides[r + 1]);
            Gemm.Operand right = HostWeights.operand(bs, bOff, bStrides[r], bStrides[r + 1]);
            if (start != null) {
                Gemm.sgemmAddingRow(m, n, k, left, right, out, i * m * n, n, start);
            } else {
                Gemm.sgemm(m, n, k, left, right, out, i * m * n, n, addTo != null);
            }
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

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }
}
