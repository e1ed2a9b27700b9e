package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/** The 8-bit dynamic map's values, and AdamW8bit's updates against fp32 AdamW over 10 steps. */
class AdamW8bitTest {
    private static final double LR = 1e-3;
    private static final int STEPS = 10;

    @Test
    void theDynamicMapsHaveBitsandbytesValues() {
        float[] signed = DynamicQuantMap.of(true).values();
        float[] unsigned = DynamicQuantMap.of(false).values();
        assertEquals(256, signed.length);
        for (int i = 1; i < 256; i++) {
            assertTrue(signed[i - 1] < signed[i] && unsigned[i - 1] <= unsigned[i], "ascending at " + i);
        }
        // signed: the last decade is the midpoints of linspace(0.1, 1, 65) (spacing 0.9/64), so its extreme is
        // −(1 − 0.9/128); the smallest positive value is 1e-6·(0.1 + 1)/2; 0 and 1 close the map
        assertEquals(-0.99296875f, signed[0], 1e-7f);
        assertEquals(1f, signed[255]);
        assertEquals(0f, signed[127]);
        assertEquals(5.5e-7f, signed[128], 1e-12f);
        // unsigned: 254 positive values, the first decade being the midpoints of linspace(0.1, 1, 3)
        assertEquals(0f, unsigned[0]);
        assertEquals(3.25e-7f, unsigned[1], 1e-12f);
        assertEquals(7.75e-7f, unsigned[2], 1e-12f);
        assertEquals(1 - 0.9f / 256, unsigned[254], 1e-7f);
        assertEquals(1f, unsigned[255]);
        // nearest code value
        DynamicQuantMap map = DynamicQuantMap.of(true);
        assertEquals(1f, map.value(map.quantize(0.9999f)));
        assertEquals(0f, map.value(map.quantize(1e-8f)));
        assertEquals(-0.99296875f, map.value(map.quantize(-1f)), 1e-7f);
    }

    @Test
    void tenUpdatesStayCloseToFp32AdamW() {
        int n = 8192; // 32 blocks of 256, above bitsandbytes' 4096-element minimum
        Parameter w8 = param("w", n, 1);
        Parameter w32 = param("w", n, 1);
        Parameter small8 = param("b", 100, 2);
        Parameter small32 = param("b", 100, 2);
        AdamW8bit eight = AdamW8bit.of(List.of(w8, small8), LR, 1e-2);
        AdamW fp32 = AdamW.of(List.of(w32, small32), LR, 1e-2);
        SplittableRandom r = new SplittableRandom(7);
        float[] trend = new float[n];
        for (int i = 0; i < n; i++) {
            // magnitudes over 2 decades with either sign (see the class comment for gradients far below their block's)
            trend[i] = (float) ((r.nextBoolean() ? 1 : -1) * Math.pow(10, -2 * r.nextDouble()));
        }
        float[] start = w32.tensor().floats().clone();
        for (int k = 0; k < STEPS; k++) {
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = trend[i] + (float) (0.5 * Math.abs(trend[i]) * (r.nextDouble() * 2 - 1)); // noisy, as in SGD
            }
            float[] gs = new float[100];
            for (int i = 0; i < 100; i++) {
                gs[i] = (float) (r.nextDouble() - 0.5);
            }
            for (Parameter p : List.of(w8, w32)) {
                p.tensor().setGrad(Tensor.of(g.clone(), n));
            }
            for (Parameter p : List.of(small8, small32)) {
                p.tensor().setGrad(Tensor.of(gs.clone(), 100));
            }
            eight.step();
            fp32.step();
        }
        assertTrue(eight.quantized(w8));
        assertFalse(eight.quantized(small8));
        float[] a = w8.tensor().floats();
        float[] b = w32.tensor().floats();
        double maxDiff = 0, sumDiff = 0, sumMove = 0;
        for (int i = 0; i < n; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            sumDiff += Math.abs(a[i] - b[i]);
            sumMove += Math.abs(b[i] - start[i]);
        }
        // Stated tolerance after 10 updates (each element moves up to ~10·lr): the mean |w8 − w32| under 3% of the
        // mean movement (seen: 1.5%), every element within 3·lr (seen: 1.9·lr, an element two decades below its
        // block's largest gradient, whose moments the map stores to ~25%: AdamW8bit's class comment)
        assertTrue(maxDiff <= 3 * LR, "max |w8 − w32| = " + maxDiff);
        assertTrue(sumDiff <= 0.03 * sumMove, "mean |w8 − w32| = " + sumDiff / n + ", mean movement " + sumMove / n);
        // the moments really are 8-bit: the stored m differs from fp32's
        float[] m8 = eight.expAvg(w8);
        float[] m32 = fp32.expAvg(w32).floats();
        double mDiff = 0;
        for (int i = 0; i < n; i++) {
            mDiff = Math.max(mDiff, Math.abs(m8[i] - m32[i]));
        }
        assertTrue(mDiff > 0, "quantized moments");
        // small tensors keep fp32 moments: only bitsandbytes' formulation differs (ε·sqrt(1 − β2^k), decay last)
        float[] c = small8.tensor().floats();
        float[] d = small32.tensor().floats();
        for (int i = 0; i < 100; i++) {
            assertEquals(d[i], c[i], 1e-6f * Math.abs(d[i]) + 1e-7f, "fp32-state element " + i);
        }
    }

    @Test
    void aFirstStepIsLrTimesTheSignAndBadGradientsAreRefused() {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(new float[] {1}, 1));
        Parameter p = ParameterStore.fromStateDict(sd, "test").root().param("w", ParameterStore.Init.ZEROS, 1);
        p.tensor().setGrad(Tensor.of(new float[] {1}, 1));
        assertEquals(Device.CPU, p.tensor().device());
        AdamW8bit opt = AdamW8bit.of(List.of(p), 1e-3, 0);
        opt.step();
        assertEquals(1 - 1e-3, p.tensor().floats()[0], 1e-7); // a first step of lr·sign(g)
        assertThrows(IllegalArgumentException.class, () -> opt.step(q -> Tensor.of(new float[] {1, 2}, 2)));
    }

    @Test
    void aRestoredStateContinuesBitIdenticallyAndAMisfitIsRefused() {
        int n = 5000; // 20 blocks, the last one short
        Parameter a = param("w", n, 3), b = param("w", n, 3), smallA = param("b", 10, 4), smallB = param("b", 10, 4);
        AdamW8bit first = AdamW8bit.of(List.of(a, smallA), LR, 1e-2);
        SplittableRandom r = new SplittableRandom(11);
        List<float[]> grads = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            float[] g = new float[n + 10];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (r.nextGaussian() * Math.pow(10, -3 * r.nextDouble()));
            }
            grads.add(g);
        }
        for (int k = 0; k < 3; k++) {
            stepWith(first, a, smallA, grads.get(k));
        }
        assertEquals(3, first.stepCount(a));
        AdamW8bit.Saved saved = first.saved(a);
        assertTrue(saved.quantized());
        assertEquals(20, saved.mAbsmax().length);
        assertFalse(first.saved(smallA).quantized());
        // a second optimizer, as a resumed run builds it: the weights and the saved state put back
        AdamW8bit second = AdamW8bit.of(List.of(b, smallB), LR, 1e-2);
        System.arraycopy(a.tensor().floats(), 0, b.tensor().floats(), 0, n);
        System.arraycopy(smallA.tensor().floats(), 0, smallB.tensor().floats(), 0, 10);
        second.restore(b, saved);
        second.restore(smallB, first.saved(smallA));
        for (int k = 3; k < 6; k++) {
            stepWith(first, a, smallA, grads.get(k));
            stepWith(second, b, smallB, grads.get(k));
        }
        assertEquals(6, second.stepCount(b));
        assertTrue(Arrays.equals(a.tensor().floats(), b.tensor().floats()), "8-bit weights bit-identical");
        assertTrue(Arrays.equals(smallA.tensor().floats(), smallB.tensor().floats()), "fp32-state weights");
        assertTrue(Arrays.equals(first.expAvgSq(a), second.expAvgSq(b)), "moments bit-identical");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> second.restore(smallB, saved));
        assertEquals("AdamW8bit state of 'b' (10 elements) needs a step count ≥ 1 and fp32 moments of 10 values; the"
                + " saved state does not fit (step 3, 5000 bytes with 20 block maxima)", e.getMessage());
    }

    @Test
    void blocksFollowTheScalarFormulaBitForBit() {
        // three tasks of blocks (run on the common pool's threads) and a short last block
        int n = AdamW8bit.BLOCK_SIZE * (2 * AdamW8bitBlocks.BLOCKS_PER_TASK + 3) + 37;
        for (double wd : new double[] {1e-2, 0}) {
            Parameter p = param("w", n, 5);
            float[] w = p.tensor().floats().clone();
            byte[] m8 = new byte[n], v8 = new byte[n];
            int blocks = (n + AdamW8bit.BLOCK_SIZE - 1) / AdamW8bit.BLOCK_SIZE;
            float[] mMax = new float[blocks], vMax = new float[blocks];
            AdamW8bit opt = AdamW8bit.of(List.of(p), LR, wd);
            SplittableRandom r = new SplittableRandom(13);
            for (int k = 1; k <= 4; k++) {
                float[] g = new float[n];
                for (int i = 0; i < n; i++) {
                    g[i] = (float) (r.nextGaussian() * Math.pow(10, -4 * r.nextDouble()));
                }
                g[17] = Float.NaN;
                g[n - 2] = Float.POSITIVE_INFINITY;
                g[300 + k] = 0;
                p.tensor().setGrad(Tensor.of(g.clone(), n));
                opt.step();
                scalarStep(w, g, m8, mMax, v8, vMax, k, (float) LR, (float) wd);
                assertTrue(Arrays.equals(w, p.tensor().floats()), "weights after update " + k + ", wd " + wd);
                AdamW8bit.Saved saved = opt.saved(p);
                assertTrue(Arrays.equals(m8, saved.m8()) && Arrays.equals(v8, saved.v8()), "codes, update " + k);
                assertTrue(Arrays.equals(mMax, saved.mAbsmax()) && Arrays.equals(vMax, saved.vAbsmax()), "maxima");
            }
        }
    }

    /** bitsandbytes' blockwise update written out one element at a time (the formula AdamW8bit's comment states). */
    private static void scalarStep(float[] w, float[] g, byte[] m8, float[] mMax, byte[] v8, float[] vMax, int k,
            float lr, float wd) {
        DynamicQuantMap signed = DynamicQuantMap.of(true), unsigned = DynamicQuantMap.of(false);
        float b1 = 0.9f, b2 = 0.999f;
        float c1 = 1f - (float) Math.pow(b1, k), c2 = (float) Math.sqrt(1f - (float) Math.pow(b2, k));
        float stepSize = -lr * c2 / c1, eps = c2 * 1e-8f;
        for (int start = 0; start < g.length; start += AdamW8bit.BLOCK_SIZE) {
            int len = Math.min(AdamW8bit.BLOCK_SIZE, g.length - start), b = start / AdamW8bit.BLOCK_SIZE;
            float[] m = new float[len], v = new float[len];
            float newM = 0, newV = 0;
            for (int j = 0; j < len; j++) {
                int i = start + j;
                m[j] = signed.value(m8[i]) * mMax[b];
                v[j] = unsigned.value(v8[i]) * vMax[b];
                if (Float.isFinite(g[i])) {
                    m[j] = m[j] * b1 + (1f - b1) * g[i];
                    v[j] = v[j] * b2 + (1f - b2) * g[i] * g[i];
                    float moved = w[i] + stepSize * (m[j] / ((float) Math.sqrt(v[j]) + eps));
                    w[i] = wd > 0 ? moved * (1f - lr * wd) : moved;
                }
                newM = Math.max(newM, Math.abs(m[j]));
                newV = Math.max(newV, Math.abs(v[j]));
            }
            mMax[b] = newM;
            vMax[b] = newV;
            for (int j = 0; j < len; j++) {
                m8[start + j] = signed.quantize(newM == 0 ? 0f : m[j] / newM);
                v8[start + j] = unsigned.quantize(newV == 0 ? 0f : v[j] / newV);
            }
        }
    }

    private static void stepWith(AdamW8bit opt, Parameter big, Parameter small, float[] g) {
        int n = Math.toIntExact(big.numel());
        big.tensor().setGrad(Tensor.of(Arrays.copyOfRange(g, 0, n), n));
        small.tensor().setGrad(Tensor.of(Arrays.copyOfRange(g, n, n + 10), 10));
        opt.step();
    }

    private static Parameter param(String name, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextDouble() * 2 - 1);
        }
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put(name, Tensor.of(w, n));
        Parameter p = ParameterStore.fromStateDict(sd, "test").root().param(name, ParameterStore.Init.ZEROS, n);
        p.trainable(true);
        return p;
    }
}
