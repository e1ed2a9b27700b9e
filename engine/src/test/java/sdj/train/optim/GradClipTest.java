package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import sdj.tensor.Tensor;

/** clip_grad_norm_ against values worked out by hand. */
class GradClipTest {
    @Test
    void theGlobalNormIsTheNormOfTheTensorNorms() {
        // ‖(3, 4)‖ = 5, ‖(12)‖ = 12, ‖[[0, 0], [0, 84]]‖ = 84: N = sqrt(25 + 144 + 7056) = 85
        Tensor a = Tensor.of(new float[] {3, 4}, 2);
        Tensor b = Tensor.of(new float[] {12}, 1);
        Tensor c = Tensor.of(new float[] {0, 0, 0, 84}, 2, 2);
        assertEquals(85f, GradClip.globalNorm(Arrays.asList(a, null, b, c)));
    }

    @Test
    void gradientsAboveMaxNormAreScaledByMaxNormOverNormPlusEps() {
        Tensor a = Tensor.of(new float[] {3, 4}, 2);
        Tensor b = Tensor.of(new float[] {12}, 1);
        float norm = GradClip.clipGradNorm(List.of(a, b), 1.0);
        assertEquals(13f, norm); // returned before clipping
        // c = (1/(13 + 1e-6))·1 in float32: 13 + 1e-6 rounds to 13 + ulp(13) = 13 + 2^-20, then the reciprocal
        // (correctly rounded, so the double quotient rounded to float is it)
        float c = (float) (1.0 / (13.0 + 0x1p-20));
        assertArrayEquals(new float[] {3 * c, 4 * c}, a.floats(), 0f);
        assertArrayEquals(new float[] {12 * c}, b.floats(), 0f);
        // the clipped norm is max_norm up to the 1e-6 guard and rounding
        assertEquals(1.0, GradClip.globalNorm(List.of(a, b)), 2e-7);
    }

    @Test
    void gradientsWithinMaxNormAreLeftAlone() {
        Tensor a = Tensor.of(new float[] {0.3f, -0.4f}, 2);
        float norm = GradClip.clipGradNorm(List.of(a), 10);
        assertEquals(0.5f, norm, 1e-7f);
        assertArrayEquals(new float[] {0.3f, -0.4f}, a.floats(), 0f);
    }
}
