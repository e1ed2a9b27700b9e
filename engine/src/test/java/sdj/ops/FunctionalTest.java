package sdj.ops;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/** The composite and gather ops of F: geglu, embedding, upsample, mse_loss, dropout. */
class FunctionalTest {
    private static final double FP32 = 1e-6;

    @Test
    void gegluMultipliesValueHalfByGeluOfGateHalf() {
        // value (2, 3), gate (1, -1): 2·gelu(1), 3·gelu(−1)
        Tensor x = t(shape(1, 4), 2, 3, 1, -1);
        assertValues(new double[] {2 * 0.8413447460685429, 3 * -0.15865525393145707}, shape(1, 2), F.geglu(x), FP32);
        GradCheck.check(in -> F.geglu(in[0]), Rand.param(1, 2, 3, 6));
    }

    @Test
    void fusedGegluMatchesChunkGeluMulOnWideRows() {
        // 40 = two 16-lane vectors and a scalar tail of 8 per half; rows split over the threads
        Tensor x = Rand.param(7, 3, 50, 80);
        Tensor fused = F.geglu(x);
        fused.mul(Rand.uniform(8, -1.0, 1.0, 3, 50, 40)).sum().backward();
        float[] fusedGrad = x.grad().toFloatArray();
        x.zeroGrad();
        List<Tensor> halves = Join.chunk(x, 2, -1);
        Tensor composed = halves.get(0).mul(Unary.gelu(halves.get(1)));
        composed.mul(Rand.uniform(8, -1.0, 1.0, 3, 50, 40)).sum().backward();
        assertValues(doubles(composed.toFloatArray()), fused.shape(), fused, FP32);
        assertValues(doubles(x.grad().toFloatArray()), x.shape(), Tensor.of(fusedGrad, x.shape()), FP32);
    }

    private static double[] doubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    @Test
    void embeddingGathersRows() {
        Tensor table = t(shape(3, 2), 0, 1, 10, 11, 20, 21);
        Tensor ids = Tensor.ofLongs(new long[] {2, 0, 2, 1}, 2, 2);
        assertValues(new double[] {20, 21, 0, 1, 20, 21, 10, 11}, shape(2, 2, 2), F.embedding(ids, table), 0);
        assertThrows(IndexOutOfBoundsException.class, () -> F.embedding(Tensor.ofLongs(new long[] {3}, 1), table));
    }

    @Test
    void embeddingGradientAccumulatesRepeatedIds() {
        Tensor table = Rand.param(2, 4, 3);
        Tensor ids = Tensor.ofLongs(new long[] {1, 3, 1, 1}, 4);
        GradCheck.check(in -> F.embedding(in[0], in[1]), ids, table);
        // with an all-ones output gradient, row r's gradient is its number of occurrences
        table.zeroGrad();
        F.embedding(ids, table).sum().backward();
        assertValues(new double[] {0, 0, 0, 3, 3, 3, 0, 0, 0, 1, 1, 1}, shape(4, 3), table.grad(), 0);
        assertEquals(DType.I64, ids.dtype());
    }

    @Test
    void upsampleNearestRepeatsEachPixelTwiceEachWay() {
        Tensor x = t(shape(1, 2, 1, 2), 1, 2, 3, 4);
        assertValues(new double[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, shape(1, 2, 2, 4),
                F.upsampleNearest2x(x), 0);
        GradCheck.check(in -> F.upsampleNearest2x(in[0]), Rand.param(3, 2, 2, 3, 2));
    }

    @Test
    void mseLossIsMeanSquaredDifference() {
        // ((1−0)² + (2−4)² + (3−3)² + (4−1)²) / 4 = 14/4
        assertValues(new double[] {3.5}, shape(), F.mseLoss(t(shape(2, 2), 1, 2, 3, 4), t(shape(2, 2), 0, 4, 3, 1)), 0);
        GradCheck.check(in -> F.mseLoss(in[0], in[1]), Rand.param(4, 2, 3), Rand.param(5, 2, 3));
    }

    @Test
    void dropoutWithZeroProbabilityIsIdentity() {
        Tensor x = Rand.uniform(6, 3, 4);
        assertSame(x, F.dropout(x, 0f, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> F.dropout(x, 1f, new SplittableRandom(1)));
    }

    @Test
    void dropoutZeroesAboutPAndScalesTheRest() {
        float p = 0.3f;
        int n = 20_000;
        Tensor x = Tensor.full(2f, n);
        float[] y = F.dropout(x, p, new SplittableRandom(7)).toFloatArray();
        int zeros = 0;
        for (float v : y) {
            if (v == 0f) {
                zeros++;
            } else {
                assertEquals(2 / (1 - p), v, 1e-6);
            }
        }
        // binomial(n, p): standard deviation √(n·p·(1−p)) ≈ 65; allow 5σ
        assertTrue(Math.abs(zeros - p * n) < 5 * Math.sqrt(n * p * (1 - p)), "zeroed " + zeros + " of " + n);
    }

    @Test
    void dropoutGradientUsesTheSameMask() {
        // a fresh generator with the same seed per evaluation keeps the mask fixed across perturbations
        GradCheck.check(in -> F.dropout(in[0], 0.5f, new SplittableRandom(8)), Rand.param(9, 4, 5));
    }
}
