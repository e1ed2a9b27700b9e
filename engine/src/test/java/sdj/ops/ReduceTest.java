package sdj.ops;

import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class ReduceTest {
    private static final double EXACT = 1e-6;

    /** x[i][j][k] = 100i + 10j + k over [2, 3, 4]: every partial sum is easy to write down. */
    private static Tensor digits() {
        float[] d = new float[24];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    d[(i * 3 + j) * 4 + k] = 100 * i + 10 * j + k;
                }
            }
        }
        return Tensor.of(d, 2, 3, 4);
    }

    @Test
    void sumOfSquaresIsTheSumOfFloatSquaresWithoutTheirTensor() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(21);
        float[] v = new float[3 * 70_001]; // chunks of 2^16 and a partial one
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(10, 3 * r.nextDouble()));
        }
        Tensor whole = Tensor.of(v, 3, 70_001);
        for (Tensor x : new Tensor[] {whole, whole.narrow(0, 1, 2), whole.transpose(0, 1)}) {
            float[] e = x.toFloatArray();
            double expected = 0;
            for (float f : e) {
                expected += (double) (f * f); // each square rounded to float, as x.mul(x) rounds it
            }
            double got = Reduce.sumOfSquares(x);
            org.junit.jupiter.api.Assertions.assertEquals(expected, got, 1e-13 * expected);
            org.junit.jupiter.api.Assertions.assertEquals(Reduce.sumAll(x.mul(x)).item(), (float) got);
        }
    }

    @Test
    void sumAndMeanOfAll() {
        // Σ = 12·(0+100) + 8·(0+10+20) + 6·(0+1+2+3) = 1200 + 240 + 36
        assertValues(new double[] {1476}, shape(), digits().sum(), EXACT);
        assertValues(new double[] {1476 / 24.0}, shape(), digits().mean(), EXACT);
    }

    @Test
    void sumOverOneDim() {
        // over j: 3·(100i + k) + 30
        assertValues(new double[] {30, 33, 36, 39, 330, 333, 336, 339}, shape(2, 4), digits().sum(1, false), EXACT);
        assertValues(new double[] {30, 33, 36, 39, 330, 333, 336, 339}, shape(2, 1, 4), digits().sum(1, true), EXACT);
        // over k (negative dim): 4·(100i + 10j) + 6
        assertValues(new double[] {6, 46, 86, 406, 446, 486}, shape(2, 3), digits().sum(-1, false), EXACT);
        // mean over i: 50 + 10j + k
        assertValues(new double[] {50, 51, 52, 53, 60, 61, 62, 63, 70, 71, 72, 73}, shape(1, 3, 4),
                digits().mean(0, true), EXACT);
    }

    @Test
    void sumOverSeveralDims() {
        // over i and k: 2·4·10j + 4·100 + 2·6
        assertValues(new double[] {412, 492, 572}, shape(3), Reduce.sum(digits(), new int[] {0, 2}, false), EXACT);
        assertValues(new double[] {412 / 8.0, 492 / 8.0, 572 / 8.0}, shape(1, 3, 1),
                Reduce.mean(digits(), new int[] {0, -1}, true), EXACT);
    }

    @Test
    void sumOfTransposedView() {
        // digits transposed to [4, 3, 2], summed over its last dim (the original i): 2·(10j + k) + 100
        Tensor x = digits().permute(2, 1, 0);
        assertValues(new double[] {100, 120, 140, 102, 122, 142, 104, 124, 144, 106, 126, 146}, shape(4, 3),
                x.sum(2, false), EXACT);
    }

    @Test
    void gradientOfSumAndMeanOfAll() {
        GradCheck.check(in -> in[0].sum(), Rand.param(1, 2, 3, 4));
        GradCheck.check(in -> in[0].mean(), Rand.param(2, 2, 3, 4));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void gradientOfDimReductions(boolean keepDim) {
        for (int dim = -3; dim < 3; dim++) {
            int d = dim;
            GradCheck.check(in -> in[0].sum(d, keepDim), Rand.param(3, 2, 3, 4));
            GradCheck.check(in -> in[0].mean(d, keepDim), Rand.param(4, 2, 3, 4));
        }
        GradCheck.check(in -> Reduce.sum(in[0], new int[] {0, 2}, keepDim), Rand.param(5, 2, 3, 4));
        GradCheck.check(in -> Reduce.mean(in[0].transpose(0, 2), new int[] {1, 2}, keepDim), Rand.param(6, 2, 3, 4));
    }
}
