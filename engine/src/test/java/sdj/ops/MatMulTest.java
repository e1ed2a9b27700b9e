package sdj.ops;

import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

class MatMulTest {
    /** fp32 dot products of a few terms in [-1, 1]. */
    private static final double FP32 = 1e-5;

    /** Naive batched product in double with NumPy batch broadcasting; a and b as [batch..., r, c] arrays. */
    static double[] naiveMatmul(Tensor a, Tensor b) {
        int[] as = a.shape();
        int[] bs = b.shape();
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int n = bs[bs.length - 1];
        int[] batch = Shape.broadcast(Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
        double[] av = OpAssert.doubles(a);
        double[] bv = OpAssert.doubles(b);
        int batches = (int) Shape.numel(batch);
        double[] out = new double[batches * m * n];
        for (int p = 0; p < batches; p++) {
            int aBase = batchIndex(p, batch, as) * m * k;
            int bBase = batchIndex(p, batch, bs) * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        s += av[aBase + i * k + l] * bv[bBase + l * n + j];
                    }
                    out[(p * m + i) * n + j] = s;
                }
            }
        }
        return out;
    }

    /** The operand's own matrix index for broadcast batch index p (size-1 and missing dims pinned to 0). */
    private static int batchIndex(int p, int[] batch, int[] operandShape) {
        int lead = batch.length - (operandShape.length - 2);
        int index = 0;
        int stride = 1;
        for (int d = batch.length - 1; d >= 0; d--) {
            int idx = p % batch[d];
            p /= batch[d];
            if (d >= lead) {
                int size = operandShape[d - lead];
                index += (size == 1 ? 0 : idx) * stride;
                stride *= size;
            }
        }
        return index;
    }

    private static int[] outShape(Tensor a, Tensor b) {
        int[] batch = Shape.broadcast(Arrays.copyOf(a.shape(), a.dim() - 2), Arrays.copyOf(b.shape(), b.dim() - 2));
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = a.size(-2);
        out[batch.length + 1] = b.size(-1);
        return out;
    }

    private static void checkProduct(Tensor a, Tensor b) {
        assertValues(naiveMatmul(a, b), outShape(a, b), a.matmul(b), FP32);
    }

    @Test
    void handComputed2x2() {
        Tensor a = t(shape(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = t(shape(3, 2), 7, 8, 9, 10, 11, 12);
        // [1·7+2·9+3·11, 1·8+2·10+3·12; 4·7+5·9+6·11, 4·8+5·10+6·12]
        assertValues(new double[] {58, 64, 139, 154}, shape(2, 2), a.matmul(b), 0);
    }

    @Test
    void forwardAgainstNaiveProduct() {
        checkProduct(Rand.uniform(1, 5, 7), Rand.uniform(2, 7, 3)); // 2D
        checkProduct(Rand.uniform(3, 2, 4, 5), Rand.uniform(4, 2, 5, 3)); // batched
        checkProduct(Rand.uniform(5, 2, 1, 4, 5), Rand.uniform(6, 3, 5, 2)); // broadcast batch [2,1]×[3]
        checkProduct(Rand.uniform(7, 4, 5), Rand.uniform(8, 2, 5, 3)); // 2D × batched
        checkProduct(Rand.uniform(9, 2, 3, 4, 5), Rand.uniform(10, 5, 6)); // ND × 2D
        checkProduct(Rand.uniform(15, 2, 5, 4).transpose(1, 2), Rand.uniform(16, 5, 6)); // non-contiguous ND × 2D
        checkProduct(Rand.uniform(17, 3, 64, 40), Rand.uniform(18, 3, 40, 50)); // large enough for the batch threads
        checkProduct(Rand.uniform(11, 5, 4).transpose(0, 1), Rand.uniform(12, 3, 5).transpose(0, 1)); // views
        checkProduct(Rand.uniform(13, 2, 5, 4).transpose(1, 2), Rand.uniform(14, 2, 3, 5).permute(0, 2, 1));
    }

    @Test
    void gradients2DAndBatched() {
        GradCheck.check(in -> in[0].matmul(in[1]), Rand.param(1, 3, 4), Rand.param(2, 4, 5));
        GradCheck.check(in -> in[0].matmul(in[1]), Rand.param(3, 2, 3, 4), Rand.param(4, 2, 4, 2));
    }

    @Test
    void gradientsWithBroadcastBatch() {
        GradCheck.check(in -> in[0].matmul(in[1]), Rand.param(5, 2, 1, 3, 4), Rand.param(6, 3, 4, 2));
        GradCheck.check(in -> in[0].matmul(in[1]), Rand.param(7, 3, 4), Rand.param(8, 2, 4, 2));
    }

    @Test
    void gradientsNDTimes2D() {
        GradCheck.check(in -> in[0].matmul(in[1]), Rand.param(9, 2, 3, 4), Rand.param(10, 4, 5));
        GradCheck.check(in -> in[0].transpose(1, 2).matmul(in[1]), Rand.param(19, 2, 4, 3), Rand.param(20, 4, 5));
    }

    @Test
    void gradientsThroughTransposedViews() {
        GradCheck.check(in -> in[0].transpose(0, 1).matmul(in[1].transpose(0, 1)), Rand.param(11, 4, 3),
                Rand.param(12, 5, 4));
        GradCheck.check(in -> in[0].matmul(in[1].transpose(-1, -2)), Rand.param(13, 2, 3, 4), Rand.param(14, 2, 5, 4));
    }

    @Test
    void linearWithAndWithoutBias() {
        Tensor x = t(shape(1, 2), 1, 2);
        Tensor w = t(shape(3, 2), 1, 0, 0, 1, 1, 1); // [out, in]
        Tensor b = t(shape(3), 10, 20, 30);
        assertValues(new double[] {11, 22, 33}, shape(1, 3), F.linear(x, w, b), 0);
        assertValues(new double[] {1, 2, 3}, shape(1, 3), F.linear(x, w, null), 0);
        GradCheck.check(in -> F.linear(in[0], in[1], in[2]), Rand.param(15, 2, 3, 4), Rand.param(16, 5, 4),
                Rand.param(17, 5));
        GradCheck.check(in -> F.linear(in[0], in[1], null), Rand.param(18, 3, 4), Rand.param(19, 5, 4));
    }

    @Test
    void linearSumIsBothLinearsInOneOutput() {
        Tensor x = t(shape(1, 2), 1, 2);
        Tensor w = t(shape(3, 2), 1, 0, 0, 1, 1, 1);
        Tensor b = t(shape(3), 10, 20, 30);
        Tensor h = t(shape(1, 1), 4); // a rank-1 hidden state
        Tensor up = t(shape(3, 1), 1, -1, 0.5f);
        assertValues(new double[] {15, 18, 35}, shape(1, 3), F.linearSum(x, w, b, h, up), 0);
        assertValues(new double[] {5, -2, 5}, shape(1, 3), F.linearSum(x, w, null, h, up), 0);
        Tensor xs = Rand.uniform(21, 2, 37, 24);
        Tensor ws = Rand.uniform(22, 40, 24);
        Tensor hs = Rand.uniform(23, 2, 37, 4);
        Tensor ups = Rand.uniform(24, 40, 4);
        Tensor bs = Rand.uniform(25, 40);
        Tensor expected = F.linear(xs, ws, bs).add(F.linear(hs, ups, null));
        assertValues(OpAssert.doubles(expected), expected.shape(), F.linearSum(xs, ws, bs, hs, ups), FP32);
    }

    @Test
    void linearSumGradients() {
        GradCheck.check(in -> F.linearSum(in[0], in[1], in[2], in[3], in[4]), Rand.param(26, 2, 3, 4),
                Rand.param(27, 5, 4), Rand.param(28, 5), Rand.param(29, 2, 3, 2), Rand.param(30, 5, 2));
        GradCheck.check(in -> F.linearSum(in[0], in[1], null, in[2], in[3]), Rand.param(31, 3, 4), Rand.param(32, 5, 4),
                Rand.param(33, 3, 2), Rand.param(34, 5, 2));
    }
}
