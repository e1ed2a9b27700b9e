package sdj.sd.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScheduleTest {
    private final Schedule sd = Schedule.sdV1();

    @Test
    void scaledLinearBetasHitTheTrainingEndpoints() {
        double[] betas = Schedule.scaledLinearBetas(0.00085, 0.012, 1000);
        assertEquals(0.00085, betas[0], 1e-18);
        assertEquals(0.012, betas[999], 1e-17);
        // Evenly spaced in √β.
        double step = (Math.sqrt(0.012) - Math.sqrt(0.00085)) / 999;
        assertEquals(Math.sqrt(0.00085) + 500 * step, Math.sqrt(betas[500]), 1e-15);
    }

    @Test
    void alphasCumprodMatchesAnIndependentFloat64Product() {
        double prod = 1;
        double a = Math.sqrt(0.00085);
        double b = Math.sqrt(0.012);
        for (int t = 0; t < 1000; t++) {
            double sqrtBeta = a + (b - a) * t / 999.0;
            prod *= 1 - sqrtBeta * sqrtBeta;
            float got = sd.alphaCumprod(t);
            assertEquals(prod, got, Math.ulp((float) prod), "alphas_cumprod[" + t + "]");
        }
        assertEquals(0.99915f, sd.alphaCumprod(0), 1e-7f);
        assertEquals(0.004660, sd.alphaCumprod(999), 1e-6); // the well-known SD v1 value
    }

    @Test
    void sigmasAreTheVarianceExplodingNoiseLevels() {
        for (int t : new int[] {0, 1, 250, 500, 998, 999}) {
            double a = sd.alphaCumprod(t);
            assertEquals(Math.sqrt((1 - a) / a), sd.sigma(t), 1e-6 * sd.sigma(t));
        }
        assertEquals(0.0292, sd.sigmaMin(), 1e-4);
        assertEquals(14.6146, sd.sigmaMax(), 1e-3);
    }

    @Test
    void sigmaToTInvertsTToSigma() {
        for (int t = 0; t < 1000; t += 37) {
            assertEquals(t, sd.sigmaToT(sd.sigma(t)), 2e-3f, "integer t " + t);
        }
        for (float t : new float[] {0.25f, 10.5f, 333.3f, 998.75f}) {
            float sigma = sd.tToSigma(t);
            assertEquals(t, sd.sigmaToT(sigma), 2e-3f, "fractional t " + t);
            // log σ is linear between integer steps
            int lo = (int) Math.floor(t);
            double w = t - lo;
            double logSigma = (1 - w) * Math.log(sd.sigma(lo)) + w * Math.log(sd.sigma(lo + 1));
            assertEquals(Math.exp(logSigma), sigma, 1e-5 * sigma);
        }
        // outside the trained range t clamps
        assertEquals(0f, sd.sigmaToT(0.001f));
        assertEquals(999f, sd.sigmaToT(100f));
    }

    @Test
    void discreteSigmasRunFromSigmaMaxToSigmaMinThenZero() {
        float[] s = sd.discreteSigmas(10);
        assertEquals(11, s.length);
        assertEquals(sd.sigmaMax(), s[0], 1e-5f);
        assertEquals(sd.sigmaMin(), s[9], 1e-7f);
        assertEquals(0f, s[10]);
        for (int i = 0; i < 9; i++) {
            assertTrue(s[i] > s[i + 1]);
        }
        // t = linspace(999, 0, 10): the 4th level is at t = 666
        assertEquals(sd.sigma(666), s[3], 1e-5f * s[3]);
    }

    @Test
    void karrasSigmasFollowTheRhoFormula() {
        int n = 20;
        float[] s = sd.karrasSigmas(n);
        assertEquals(n + 1, s.length);
        assertEquals(sd.sigmaMax(), s[0], 1e-5f * s[0]);
        assertEquals(sd.sigmaMin(), s[n - 1], 1e-6f * s[n - 1]);
        assertEquals(0f, s[n]);
        double rho = 7;
        double lo = Math.pow(sd.sigmaMin(), 1 / rho);
        double hi = Math.pow(sd.sigmaMax(), 1 / rho);
        for (int i = 0; i < n; i++) {
            double expected = Math.pow(hi + i / (double) (n - 1) * (lo - hi), rho);
            assertEquals(expected, s[i], 1e-6 * expected, "sigma " + i);
            // σ^(1/ρ) is evenly spaced
            if (i > 0) {
                assertEquals((lo - hi) / (n - 1), Math.pow(s[i], 1 / rho) - Math.pow(s[i - 1], 1 / rho), 1e-6);
            }
        }
        float[] custom = Schedule.karrasSigmas(3, 0.1, 10, 7);
        assertArrayEquals(new float[] {10f, (float) Math.pow((Math.pow(10, 1 / 7.0) + Math.pow(0.1, 1 / 7.0)) / 2, 7),
            0.1f, 0f}, custom, 1e-6f);
    }

    @Test
    void checkpointBufferBuildsTheSameSchedule() {
        Schedule fromBuffer = new Schedule(sd.alphasCumprod());
        assertEquals(sd, fromBuffer);
        assertEquals(sd.sigmaMax(), fromBuffer.sigmaMax());
        assertThrows(IllegalArgumentException.class, () -> new Schedule(new float[] {0.9f, 1.2f}));
        assertThrows(IllegalArgumentException.class, () -> new Schedule(new float[] {0.5f, 0.9f}));
    }

    @Test
    void ddimTimestepsAreCompVisUniform() {
        DdimSchedule d = new DdimSchedule(sd, 50, 0);
        assertEquals(50, d.size());
        assertEquals(1, d.timesteps[0]);
        assertEquals(21, d.timesteps[1]);
        assertEquals(981, d.timesteps[49]);
        assertEquals(sd.alphaCumprod(0), d.alphasPrev[0]);
        assertEquals(sd.alphaCumprod(961), d.alphasPrev[49]);
        assertEquals(sd.alphaCumprod(981), d.alphas[49]);
        assertEquals(0f, d.sigmas[10]);
        // 1000 // 30 = 33 and range(0, 1000, 33) has 31 entries
        assertEquals(31, new DdimSchedule(sd, 30, 0).size());
        // η = 1: σ_t = √((1 − a_prev)/(1 − a_t) · (1 − a_t/a_prev))
        DdimSchedule eta1 = new DdimSchedule(sd, 50, 1);
        double a = sd.alphaCumprod(501);
        double ap = sd.alphaCumprod(481);
        assertEquals(Math.sqrt((1 - ap) / (1 - a) * (1 - a / ap)), eta1.sigmas[25], 1e-7);
        // spacing 1 (or any divisor of 999) would reach t = 1000
        assertThrows(IllegalArgumentException.class, () -> new DdimSchedule(sd, 1000, 0));
        assertThrows(IllegalArgumentException.class, () -> new DdimSchedule(sd, 333, 0));
    }
}
