package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.Tensor;

/**
 * The loss scaler against torch's GradScaler rules written out here (scale·loss, g/scale, backoff ×0.5 on inf or
 * NaN, growth ×2 after the interval), on the CPU; {@link CudaMixedPrecisionStepTest} runs the same on the GPU.
 */
class DynamicLossScalerTest {
    @Test
    void theDefaultsAreTorchs() {
        DynamicLossScaler s = new DynamicLossScaler();
        assertEquals(65536f, s.scale());
        for (int i = 0; i < 1999; i++) {
            s.update(true);
        }
        assertEquals(65536f, s.scale());
        assertEquals(1999, s.growthTracker());
        s.update(true); // the 2000th finite step in a row
        assertEquals(131072f, s.scale());
        assertEquals(0, s.growthTracker());
    }

    @Test
    void theScaledLossBackpropagatesScaledGradients() {
        DynamicLossScaler s = new DynamicLossScaler();
        Tensor w = Tensor.of(new float[] {0.5f, -3f}, 2).requiresGrad(true);
        Tensor x = Tensor.of(new float[] {1.5f, 0.25f}, 2);
        Tensor loss = w.mul(x).sum(); // 0.75 − 0.75 = 0, d/dw = x
        Tensor scaled = s.scale(loss.add(2.5f));
        assertEquals(2.5f * 65536f, scaled.item());
        scaled.backward();
        assertArrayEquals(new float[] {1.5f * 65536f, 0.25f * 65536f}, w.grad().floats(), 0f);
        assertTrue(s.unscale(List.of(w.grad())));
        assertArrayEquals(x.floats(), w.grad().floats(), 0f); // powers of two: exact
    }

    @Test
    void unscalingMultipliesByTheFloat32Reciprocal() {
        DynamicLossScaler s = new DynamicLossScaler(3f, 2f, 0.5f, 10);
        float[] g = {3f, -1f, 1e-3f, 0f};
        Tensor a = Tensor.of(g.clone(), 4);
        assertTrue(s.unscale(Arrays.asList(a, null)));
        float inv = (float) (1.0 / 3);
        assertArrayEquals(new float[] {3f * inv, -inv, 1e-3f * inv, 0f}, a.floats(), 0f);
        assertEquals(1.0f, a.floats()[0], 1e-7f);
    }

    @Test
    void anInfOrNanGradientIsFoundInAnyTensor() {
        DynamicLossScaler s = new DynamicLossScaler();
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
            Tensor fine = Tensor.of(new float[] {1f, 2f}, 2);
            Tensor broken = Tensor.of(new float[] {0f, bad, 4f}, 3);
            assertFalse(s.unscale(List.of(fine, broken)), "found " + bad);
            assertTrue(s.unscale(List.of(Tensor.of(new float[] {Float.MAX_VALUE, -Float.MAX_VALUE}, 2))),
                    "large finite values are finite");
        }
    }

    @Test
    void backoffHalvesAndRestartsTheCountGrowthDoublesAfterTheInterval() {
        DynamicLossScaler s = new DynamicLossScaler(1024f, 2f, 0.5f, 3);
        s.update(true);
        s.update(true);
        assertEquals(2, s.growthTracker());
        s.update(false);
        assertEquals(512f, s.scale());
        assertEquals(0, s.growthTracker());
        s.update(true);
        s.update(true);
        assertEquals(512f, s.scale());
        s.update(true);
        assertEquals(1024f, s.scale());
        assertEquals(0, s.growthTracker());
        s.update(false);
        s.update(false);
        assertEquals(256f, s.scale());
    }

    @Test
    void growthStopsBeforeInfinity() {
        DynamicLossScaler s = new DynamicLossScaler(Float.MAX_VALUE, 2f, 0.5f, 1);
        s.update(true);
        assertEquals(Float.MAX_VALUE, s.scale());
        assertEquals(0, s.growthTracker());
    }

    @Test
    void stateRoundTripsIntoAFreshScaler() {
        DynamicLossScaler s = new DynamicLossScaler(1024f, 2f, 0.5f, 3);
        s.update(false);
        s.update(true);
        DynamicLossScaler.State saved = s.state();
        assertEquals(new DynamicLossScaler.State(512f, 1), saved);
        DynamicLossScaler resumed = new DynamicLossScaler(1024f, 2f, 0.5f, 3);
        resumed.restore(saved);
        s.update(true);
        s.update(true);
        resumed.update(true);
        resumed.update(true);
        assertEquals(1024f, resumed.scale());
        assertEquals(s.state(), resumed.state());
        assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler.State(0f, 0));
        assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler.State(1f, -1));
    }

    @Test
    void aSkippedStepLeavesWeightsAndAdamWUntouchedOnTheCpu() {
        Parameter p = param(new float[] {0.5f, -1f, 2f});
        AdamW adamw = AdamW.of(List.of(p), 1e-3, 1e-2);
        MasterWeightStep step = new MasterWeightStep(List.of(p), adamw::step, new DynamicLossScaler(), 1.0);
        p.tensor().setGrad(Tensor.of(new float[] {65536f, Float.POSITIVE_INFINITY, 0f}, 3));
        MasterWeightStep.Outcome skipped = step.step();
        assertEquals(MasterWeightStep.Kind.SKIPPED, skipped.kind());
        assertArrayEquals(new float[] {0.5f, -1f, 2f}, p.tensor().floats(), 0f);
        assertEquals(0, adamw.stepCount(p));
        assertEquals(32768f, step.scaler().scale());

        p.tensor().setGrad(Tensor.of(new float[] {3 * 32768f, 0f, -4 * 32768f}, 3)); // unscaled (3, 0, −4): norm 5
        MasterWeightStep.Outcome applied = step.step();
        assertEquals(MasterWeightStep.Kind.APPLIED, applied.kind());
        assertEquals(5f, applied.gradNorm(), 0f);
        assertEquals(1, adamw.stepCount(p));
        assertEquals(1, step.scaler().growthTracker());
        // Adam's first step is lr·sign(g) after the decay: the clipped g (0.6, 0, −0.8) keeps its signs
        float[] w = p.tensor().floats();
        assertEquals(0.5f * (1 - 1e-5f) - 1e-3f, w[0], 1e-7f);
        assertEquals(-1f * (1 - 1e-5f), w[1], 1e-7f);
        assertEquals(2f * (1 - 1e-5f) + 1e-3f, w[2], 1e-7f);
    }

    private static Parameter param(float[] w) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(w.clone(), w.length));
        Parameter p = ParameterStore.fromStateDict(sd, "test").root().param("w", ParameterStore.Init.ZEROS, w.length);
        p.trainable(true);
        return p;
    }
}
