package sdj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import sdj.tensor.Tensor;

/**
 * The loss against direct float64 sums over a small random batch [B, 2, 3, 3] (B = instances + classes):
 * plain MSE, prior preservation with its weight, min-SNR weights, and the gradient that reaches the prediction.
 */
class DiffusionLossTest {
    private static final int PER_SAMPLE = 2 * 3 * 3;
    private static final NoiseSchedule SCHEDULE = NoiseSchedule.sdV1();

    @Test
    void withoutPriorAndSnrItIsThePlainMse() {
        float[] e = random(3, 1);
        float[] target = random(3, 2);
        Tensor loss = DiffusionLoss.mse(3).compute(tensor(e, 3), tensor(target, 3), new long[] {1, 500, 999}, SCHEDULE);
        double sum = 0;
        for (int i = 0; i < e.length; i++) {
            sum += (e[i] - target[i]) * (double) (e[i] - target[i]);
        }
        assertEquals(sum / e.length, loss.item(), 1e-6 * sum / e.length);
    }

    @Test
    void priorPreservationAndMinSnrWeighTheRightSamples() {
        // 2 instances (t 37: snr > 5, weight < 1; t 999: weight 1) and 3 class samples (t 37 again: not weighted)
        long[] t = {37, 999, 37, 500, 700};
        float[] e = random(5, 3);
        float[] target = random(5, 4);
        DiffusionLoss loss = new DiffusionLoss(2, 0.75, 5.0);
        double[] mse = perSampleMse(e, target, 5);
        double snr37 = SCHEDULE.snr(37);
        double w37 = 5.0 / snr37;
        double expected = (w37 * mse[0] + 1.0 * mse[1]) / 2 + 0.75 * (mse[2] + mse[3] + mse[4]) / 3;
        assertEquals(expected, loss.compute(tensor(e, 5), tensor(target, 5), t, SCHEDULE).item(), 1e-6 * expected);
        assertArrayEquals(new float[] {(float) w37, 1f}, loss.instanceWeights(t, SCHEDULE));
        assertEquals(true, snr37 > 5 && SCHEDULE.snr(999) < 5, "t 37 is clipped by gamma 5, t 999 is not");
    }

    @Test
    void gradientReachesEachSampleWithItsWeight() {
        long[] t = {37, 700, 500};
        float[] e = random(3, 5);
        float[] target = random(3, 6);
        Tensor pred = tensor(e, 3).requiresGrad(true);
        new DiffusionLoss(2, 2.0, 5.0).compute(pred, tensor(target, 3), t, SCHEDULE).backward();
        // d/de of w_b·mean(e_b²)/instances, and of weight·mean(e²) over the class samples
        double[] scale = {(5.0 / SCHEDULE.snr(37)) / 2, Math.min(SCHEDULE.snr(700), 5.0) / SCHEDULE.snr(700) / 2, 2.0};
        float[] g = pred.grad().toFloatArray();
        for (int i = 0; i < e.length; i++) {
            double expected = scale[i / PER_SAMPLE] * 2 * (e[i] - target[i]) / PER_SAMPLE;
            assertEquals(expected, g[i], 1e-6 * Math.abs(expected) + 1e-9, "element " + i);
        }
    }

    @Test
    void badBatchesAreRefusedWithTheShapes() {
        DiffusionLoss loss = new DiffusionLoss(4, 1, Double.NaN);
        var ex = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(tensor(random(3, 1), 3), tensor(random(3, 2), 3), new long[] {1, 2, 3}, SCHEDULE));
        assertEquals(true, ex.getMessage().contains("4 instances"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DiffusionLoss(0, 1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new DiffusionLoss(1, 1, -5));
    }

    private static double[] perSampleMse(float[] e, float[] target, int batch) {
        double[] out = new double[batch];
        for (int i = 0; i < e.length; i++) {
            double d = (double) e[i] - target[i];
            out[i / PER_SAMPLE] += d * d / PER_SAMPLE;
        }
        return out;
    }

    private static float[] random(int batch, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[batch * PER_SAMPLE];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return out;
    }

    private static Tensor tensor(float[] values, int batch) {
        return Tensor.of(values.clone(), batch, 2, 3, 3);
    }
}
