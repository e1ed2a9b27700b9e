package sdj.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** The checker itself must reject a wrong backward, or every passing check below would be meaningless. */
class GradCheckTest {
    /** y = x³ recorded with the given claimed derivative factor k·x² (the truth is k = 3). */
    private static Tensor cube(Tensor x, float k) {
        float[] v = x.toFloatArray();
        float[] y = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            y[i] = v[i] * v[i] * v[i];
        }
        return Autograd.record(Tensor.of(y, x.shape()), "cube", new Tensor[] {x},
                g -> new Tensor[] {g.mul(x).mul(x).mul(k)});
    }

    @Test
    void acceptsCorrectGradient() {
        GradCheck.check(in -> cube(in[0], 3f), Rand.param(1, 2, 3));
    }

    @Test
    void rejectsGradientOffByOnePercent() {
        assertThrows(AssertionFailedError.class, () -> GradCheck.check(in -> cube(in[0], 3.03f), Rand.param(1, 2, 3)));
    }
}
