package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.AdamWStep;
import sdj.tensor.Tensor;

/**
 * AdamW on the CPU against the formula of torch 1.13 written out here: in double (1e-6 relative), and with torch's
 * float32 operation order (bit for bit).
 */
class AdamWTest {
    private static final float[] A0 = {0.5f, -1.25f, 2f, 0.75f, -0.3f, 1.1f};
    private static final float[] B0 = {1.5f, -0.8f, 0.6f, -2.2f};
    private static final float[][] GA = {{0.02f, -0.4f, 1.3f, -0.07f, 0.9f, 0.003f}, {-0.05f, -0.2f, 0.8f, 0.3f, 1.1f, -0.01f}};
    private static final float[][] GB = {{0.6f, 0.01f, -0.5f, 0.25f}, {0.4f, -0.03f, -0.1f, 0.2f}};

    @Test
    void twoUpdatesOfTwoGroupsMatchTheFormulaInDouble() {
        Map<String, Parameter> p = params();
        AdamW opt = new AdamW(List.of(new ParamGroup(List.of(p.get("a"), p.get("c")), 1e-3, 1e-2),
                new ParamGroup(List.of(p.get("b")), 5e-3, 0)), 0.9, 0.999, 1e-8);
        for (int k = 0; k < 2; k++) {
            p.get("a").tensor().setGrad(Tensor.of(GA[k].clone(), 2, 3));
            p.get("b").tensor().setGrad(Tensor.of(GB[k].clone(), 4));
            opt.step();
        }
        double[][] a = reference(A0, GA, 1e-3, 1e-2);
        double[][] b = reference(B0, GB, 5e-3, 0);
        assertRelative(a[0], p.get("a").tensor().floats(), "a");
        assertRelative(a[1], opt.expAvg(p.get("a")).floats(), "exp_avg of a");
        assertRelative(a[2], opt.expAvgSq(p.get("a")).floats(), "exp_avg_sq of a");
        assertRelative(b[0], p.get("b").tensor().floats(), "b");
        assertRelative(b[2], opt.expAvgSq(p.get("b")).floats(), "exp_avg_sq of b");
        assertEquals(2, opt.stepCount(p.get("a")));
        // c never had a gradient: skipped, as torch does, so it has no state and keeps its value
        assertEquals(0, opt.stepCount(p.get("c")));
        assertNull(opt.expAvg(p.get("c")));
        assertArrayEquals(new float[] {4f, -4f}, p.get("c").tensor().floats(), 0f);
        // the updates really moved the weights, by about lr each (Adam's first step is lr·sign(g))
        assertEquals(2 - 2e-3, p.get("a").tensor().floats()[2], 1e-4);
    }

    @Test
    void theCpuFollowsTorchsFloat32OperationOrder() {
        Map<String, Parameter> p = params();
        AdamW opt = AdamW.of(List.of(p.get("a")), 2e-3, 0.05);
        float[] w = A0.clone();
        float[] m = new float[6];
        float[] v = new float[6];
        for (int k = 1; k <= 2; k++) {
            p.get("a").tensor().setGrad(Tensor.of(GA[k - 1].clone(), 2, 3));
            opt.step();
            // torch 1.13 _single_tensor_adamw on a float32 CPU tensor; python scalars are doubles, each
            // rounded to float where a kernel takes it
            float decay = (float) (1 - 2e-3 * 0.05);
            float negStep = (float) -(2e-3 / (1 - Math.pow(0.9, k)));
            float bc2 = (float) Math.sqrt(1 - Math.pow(0.999, k));
            for (int i = 0; i < 6; i++) {
                float g = GA[k - 1][i];
                w[i] = w[i] * decay;                                       // param.mul_(1 - lr * wd)
                m[i] = Math.fma(g, (float) (1 - 0.9), m[i] * 0.9f);        // exp_avg.mul_(b1).add_(g, alpha): vec::fmadd
                v[i] = v[i] * 0.999f + (float) (1 - 0.999) * g * g;        // exp_avg_sq.mul_(b2).addcmul_(g, g, value)
                float denom = (float) Math.sqrt(v[i]) / bc2 + 1e-8f;       // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
                w[i] = w[i] + negStep * m[i] / denom;                      // param.addcdiv_(exp_avg, denom, -step_size)
            }
        }
        assertArrayEquals(w, p.get("a").tensor().floats(), 0f);
        assertArrayEquals(m, opt.expAvg(p.get("a")).floats(), 0f);
        assertArrayEquals(v, opt.expAvgSq(p.get("a")).floats(), 0f);
    }

    @Test
    void theStepRecordRoundsDoubleScalarsOnce() {
        AdamWStep s = new AdamWStep(1e-4, 0.9, 0.999, 1e-8, 1e-2, 2);
        assertEquals((float) (1 - 1e-6), s.decay());
        assertEquals((float) -(1e-4 / 0.19), s.negativeStepSize()); // 1 − 0.9² = 0.19
        assertEquals((float) Math.sqrt(1 - 0.999 * 0.999), s.biasCorrection2Sqrt());
        assertEquals(0.001f, s.oneMinusBeta2(), 1e-10f);
        assertThrows(IllegalArgumentException.class, () -> new AdamWStep(1e-4, 0.9, 0.999, 1e-8, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamWStep(1e-4, 1.0, 0.999, 1e-8, 0, 1));
    }

    @Test
    void restoredStateContinuesBitForBitAndIsACopy() {
        Map<String, Parameter> p = params();
        AdamW first = AdamW.of(List.of(p.get("a")), 1e-3, 1e-2);
        p.get("a").tensor().setGrad(Tensor.of(GA[0].clone(), 2, 3));
        first.step();
        float[] afterOne = p.get("a").tensor().floats().clone();
        float[] m = first.expAvg(p.get("a")).floats().clone();
        float[] v = first.expAvgSq(p.get("a")).floats().clone();
        p.get("a").tensor().setGrad(Tensor.of(GA[1].clone(), 2, 3));
        first.step();
        float[] straight = p.get("a").tensor().floats().clone();

        // a fresh optimizer over fresh weights, given update 1's weights and state, makes the same update 2
        Map<String, Parameter> q = params();
        q.get("a").set(Tensor.of(afterOne.clone(), 2, 3));
        AdamW resumed = AdamW.of(List.of(q.get("a")), 1e-3, 1e-2);
        Tensor savedM = Tensor.of(m.clone(), 2, 3);
        resumed.restore(q.get("a"), savedM, Tensor.of(v, 2, 3), 1);
        assertEquals(1, resumed.stepCount(q.get("a")));
        q.get("a").tensor().setGrad(Tensor.of(GA[1].clone(), 2, 3));
        resumed.step();
        assertArrayEquals(straight, q.get("a").tensor().floats());
        assertEquals(2, resumed.stepCount(q.get("a")));
        assertArrayEquals(first.expAvgSq(p.get("a")).floats(), resumed.expAvgSq(q.get("a")).floats());
        // the optimizer updated its own copy, not the tensor it was given
        assertArrayEquals(m, savedM.floats());

        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> resumed.restore(q.get("a"), Tensor.of(new float[6], 6), Tensor.of(new float[6], 2, 3), 1));
        assertEquals("AdamW state of 'a' needs moments of shape [2, 3] and a step count ≥ 0; got [6], [2, 3] and 1",
                shape.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> resumed.restore(q.get("b"), Tensor.of(new float[4], 4), Tensor.of(new float[4], 4), 1));
    }

    @Test
    void aParameterInTwoGroupsIsRefused() {
        Map<String, Parameter> p = params();
        var e = assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(
                new ParamGroup(List.of(p.get("a")), 1e-3, 0), new ParamGroup(List.of(p.get("a")), 1e-4, 0)), 0.9, 0.999, 1e-8));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
    }

    private static Map<String, Parameter> params() {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("a", Tensor.of(A0.clone(), 2, 3));
        sd.put("b", Tensor.of(B0.clone(), 4));
        sd.put("c", Tensor.of(new float[] {4f, -4f}, 2));
        ParameterStore store = ParameterStore.fromStateDict(sd, "test");
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put("a", store.root().param("a", ParameterStore.Init.ZEROS, 2, 3));
        out.put("b", store.root().param("b", ParameterStore.Init.ZEROS, 4));
        out.put("c", store.root().param("c", ParameterStore.Init.ZEROS, 2));
        out.values().forEach(q -> q.trainable(true));
        return out;
    }

    /** {param, exp_avg, exp_avg_sq} after the updates, all in double (torch's formula with m = v = 0 at the start). */
    private static double[][] reference(float[] p0, float[][] grads, double lr, double wd) {
        int n = p0.length;
        double[] p = new double[n];
        double[] m = new double[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = p0[i];
        }
        for (int k = 1; k <= grads.length; k++) {
            for (int i = 0; i < n; i++) {
                double g = grads[k - 1][i];
                p[i] *= 1 - lr * wd;
                m[i] = 0.9 * m[i] + (1 - 0.9) * g;
                v[i] = 0.999 * v[i] + (1 - 0.999) * g * g;
                p[i] -= lr / (1 - Math.pow(0.9, k)) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.999, k)) + 1e-8);
            }
        }
        return new double[][] {p, m, v};
    }

    private static void assertRelative(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-6 * Math.abs(want[i]),
                    what + "[" + i + "] = " + got[i] + ", formula in double " + want[i]);
        }
    }
}
