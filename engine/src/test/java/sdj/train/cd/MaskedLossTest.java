package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import sdj.tensor.Tensor;

/** adobe's masked loss against the formula of sd-tiny-train README A, computed here in double. */
class MaskedLossTest {
    @Test
    void matchesTheReadmeFormulaInDouble() {
        int b = 4, c = 4, h = 5, w = 6;
        SplittableRandom r = new SplittableRandom(3);
        float[] eps = new float[b * c * h * w];
        float[] tgt = new float[eps.length];
        for (int i = 0; i < eps.length; i++) {
            eps[i] = (float) r.nextGaussian();
            tgt[i] = (float) r.nextGaussian();
        }
        float[] mask = new float[b * h * w];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = i < h * w ? (i % w > 1 && i / w > 0 ? 1 : 0) : 1; // sample 0 masked, the others all ones
        }
        double plw = 0.7;
        double expected = 0;
        for (int s = 0; s < b; s++) {
            double num = 0, den = 0;
            for (int p = 0; p < h * w; p++) {
                den += mask[s * h * w + p];
                for (int ch = 0; ch < c; ch++) {
                    int i = ((s * c + ch) * h * w) + p;
                    double e = (double) eps[i] - tgt[i];
                    num += mask[s * h * w + p] * e * e;
                }
            }
            expected += (s < 2 ? 1 : plw) * num / den;
        }
        expected /= b;
        double actual = new MaskedLoss(2, plw).compute(Tensor.of(eps, b, c, h, w), Tensor.of(tgt, b, c, h, w),
                Tensor.of(mask, b, 1, h, w)).item();
        assertEquals(expected, actual, 1e-6 * expected);
        assertTrue(expected > 1, "the ×4 channel sum: about 4·2 per sample for unit Gaussians");
    }

    @Test
    void anEmptyMaskIsOneSentence() {
        var e = assertThrows(IllegalArgumentException.class, () -> new MaskedLoss(1, 1).compute(Tensor.zeros(1, 4, 2, 2),
                Tensor.zeros(1, 4, 2, 2), Tensor.zeros(1, 1, 2, 2)));
        assertTrue(e.getMessage().contains("sample 0 is all zeros"), e.getMessage());
    }
}
