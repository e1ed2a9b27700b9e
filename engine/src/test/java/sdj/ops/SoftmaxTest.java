package sdj.ops;

import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import org.junit.jupiter.api.Test;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class SoftmaxTest {
    private static final double FP32 = 1e-6;

    /** Naive softmax over the last dim in double (no max subtraction needed for inputs in [-1, 1]). */
    static double[] naiveSoftmax(double[] v, int d) {
        double[] out = new double[v.length];
        for (int base = 0; base < v.length; base += d) {
            double sum = 0;
            for (int i = 0; i < d; i++) {
                sum += Math.exp(v[base + i]);
            }
            for (int i = 0; i < d; i++) {
                out[base + i] = Math.exp(v[base + i]) / sum;
            }
        }
        return out;
    }

    @Test
    void handValues() {
        // exp(ln k) = k, so softmax(ln 1, ln 2, ln 3, ln 4) = (1, 2, 3, 4)/10
        Tensor x = t(shape(1, 4), 0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4));
        assertValues(new double[] {0.1, 0.2, 0.3, 0.4}, shape(1, 4), F.softmax(x), FP32);
        // large logits must not overflow: softmax(1000, 1001) = (1, e)/(1 + e)
        double e = Math.E;
        assertValues(new double[] {1 / (1 + e), e / (1 + e)}, shape(2), F.softmax(t(shape(2), 1000, 1001)), FP32);
    }

    @Test
    void againstNaiveOverLastDim() {
        Tensor x = Rand.uniform(1, 2, 3, 5);
        assertValues(naiveSoftmax(OpAssert.doubles(x), 5), shape(2, 3, 5), F.softmax(x), FP32);
        Tensor xt = x.transpose(1, 2); // [2, 5, 3], non-contiguous
        assertValues(naiveSoftmax(OpAssert.doubles(xt), 3), shape(2, 5, 3), F.softmax(xt), FP32);
        Tensor big = Rand.uniform(4, 300, 77); // rows split over threads
        assertValues(naiveSoftmax(OpAssert.doubles(big), 77), shape(300, 77), F.softmax(big), FP32);
    }

    @Test
    void gradients() {
        GradCheck.check(in -> F.softmax(in[0]), Rand.param(2, 2, 3, 5));
        GradCheck.check(in -> F.softmax(in[0].transpose(0, 1)), Rand.param(3, 4, 3));
    }
}
