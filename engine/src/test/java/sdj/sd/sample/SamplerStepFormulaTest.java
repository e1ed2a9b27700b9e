package sdj.sd.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.random.TorchGenerator;
import sdj.tensor.Tensor;

/**
 * The first step(s) of every sampler against its published update rule, evaluated by hand here in
 * double for a 4-value latent and a nonlinear, timestep-dependent stand-in for the network.
 * The state after step k is read through the step hook, which sees the latent before step k+1.
 */
class SamplerStepFormulaTest {
    private static final int STEPS = 5;
    private static final double TOL = 2e-5;
    private final Schedule sd = Schedule.sdV1();
    private final Tensor xT = Tensor.of(new float[] {0.8f, -1.3f, 0.05f, 2.1f}, 1, 1, 2, 2);

    /** A smooth nonlinear ε(x, t). */
    private static double epsOf(double x, double t) {
        return 0.7 * Math.tanh(x) + 0.2 * x + t / 4000.0;
    }

    private final EpsModel model = (x, ts) -> {
        float[] v = x.toFloatArray();
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) epsOf(v[i], ts[0]);
        }
        return Tensor.of(out, x.shape());
    };

    /** Latents seen before each step index (index STEPS-ish entries: start, after step 0, after step 1, ...). */
    private Map<Integer, double[]> run(String name, SamplerOptions options, long noiseSeed) {
        Map<Integer, double[]> states = new HashMap<>();
        Sampler s = Samplers.byName(name, options.withHook((x, i) -> {
            float[] f = x.toFloatArray();
            double[] d = new double[f.length];
            for (int k = 0; k < f.length; k++) {
                d[k] = f[k];
            }
            states.put(i, d);
            return x;
        }));
        s.sample(model, xT, STEPS, new TorchGenerator(noiseSeed), ProgressListener.NONE);
        return states;
    }

    private static void assertClose(double[] want, double[] got, String what) {
        assertNotNull(got, what);
        for (int k = 0; k < want.length; k++) {
            assertEquals(want[k], got[k], TOL * Math.max(1, Math.abs(want[k])), what + " element " + k);
        }
    }

    // ------------------------------------------------------------ DDIM family

    private double[] ddimUpdate(double[] x, double[] e, double aT, double aPrev, double sigma, double[] noise) {
        double[] out = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            double predX0 = (x[k] - Math.sqrt(1 - aT) * e[k]) / Math.sqrt(aT);
            double dir = Math.sqrt(1 - aPrev - sigma * sigma) * e[k];
            out[k] = Math.sqrt(aPrev) * predX0 + dir + (noise == null ? 0 : sigma * noise[k]);
        }
        return out;
    }

    private static double[] eps(double[] x, double t) {
        double[] e = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            e[k] = epsOf(x[k], t);
        }
        return e;
    }

    @Test
    void ddimStepIsTheDdimUpdate() {
        // 5 steps: c = 200, timesteps 1, 201, 401, 601, 801; the first step goes 801 -> 601.
        Map<Integer, double[]> s = run("ddim", SamplerOptions.defaults(), 0);
        double a = sd.alphaCumprod(801);
        double ap = sd.alphaCumprod(601);
        assertClose(ddimUpdate(s.get(0), eps(s.get(0), 801), a, ap, 0, null), s.get(1), "ddim eta 0");

        Map<Integer, double[]> s1 = run("ddim", SamplerOptions.defaults().withEta(1.0), 11);
        double sigma = Math.sqrt((1 - ap) / (1 - a) * (1 - a / ap));
        float[] nf = new TorchGenerator(11).randn(1, 1, 2, 2).floats();
        double[] noise = {nf[0], nf[1], nf[2], nf[3]};
        assertClose(ddimUpdate(s1.get(0), eps(s1.get(0), 801), a, ap, sigma, noise), s1.get(1), "ddim eta 1");
    }

    @Test
    void plmsStartsWithPseudoImprovedEulerThenAdamsBashforth() {
        Map<Integer, double[]> s = run("plms", SamplerOptions.defaults(), 0);
        double a801 = sd.alphaCumprod(801);
        double a601 = sd.alphaCumprod(601);
        double a401 = sd.alphaCumprod(401);
        double[] x0 = s.get(0);
        double[] e1 = eps(x0, 801);
        double[] xPrime = ddimUpdate(x0, e1, a801, a601, 0, null);
        double[] e2 = eps(xPrime, 601);
        double[] mix = new double[4];
        for (int k = 0; k < 4; k++) {
            mix[k] = (e1[k] + e2[k]) / 2;
        }
        assertClose(ddimUpdate(x0, mix, a801, a601, 0, null), s.get(1), "plms step 1");

        double[] x1 = s.get(1);
        double[] e = eps(x1, 601);
        for (int k = 0; k < 4; k++) {
            mix[k] = (3 * e[k] - e1[k]) / 2;
        }
        assertClose(ddimUpdate(x1, mix, a601, a401, 0, null), s.get(2), "plms step 2");
    }

    @Test
    void ddpmStepIsThePosteriorSample() {
        // 5 respaced timesteps: round(k * 999 / 4) = 0, 250, 500, 749, 999; first step 999 -> 749.
        Map<Integer, double[]> s = run("ddpm", SamplerOptions.defaults(), 5);
        double a = sd.alphaCumprod(999);
        double ap = sd.alphaCumprod(749);
        double beta = 1 - a / ap;
        float[] nf = new TorchGenerator(5).randn(1, 1, 2, 2).floats();
        double[] x = s.get(0);
        double[] e = eps(x, 999);
        double[] want = new double[4];
        for (int k = 0; k < 4; k++) {
            double predX0 = (x[k] - Math.sqrt(1 - a) * e[k]) / Math.sqrt(a);
            double mean = beta * Math.sqrt(ap) / (1 - a) * predX0 + (1 - ap) * Math.sqrt(1 - beta) / (1 - a) * x[k];
            double variance = beta * (1 - ap) / (1 - a);
            want[k] = mean + Math.sqrt(variance) * nf[k];
        }
        assertClose(want, s.get(1), "ddpm");
    }

    // ------------------------------------------------------------ k-diffusion family

    /** D(x, σ) = x − σ·ε(x/√(σ²+1), t(σ)). */
    private double[] denoised(double[] x, float sigma) {
        double t = sd.sigmaToT(sigma);
        double cIn = 1 / Math.sqrt(sigma * (double) sigma + 1);
        double[] out = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = x[k] - sigma * epsOf(x[k] * cIn, t);
        }
        return out;
    }

    private double[] derivative(double[] x, float sigma) {
        double[] den = denoised(x, sigma);
        double[] d = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            d[k] = (x[k] - den[k]) / sigma;
        }
        return d;
    }

    @Test
    void kSamplersStartAtSigmaMaxTimesNoise() {
        Map<Integer, double[]> s = run("euler", SamplerOptions.defaults(), 0);
        float sigmaMax = sd.discreteSigmas(STEPS)[0];
        float[] z = xT.floats();
        for (int k = 0; k < 4; k++) {
            assertEquals(z[k] * sigmaMax, s.get(0)[k], 1e-6);
        }
    }

    @Test
    void eulerStepFollowsTheOdeDerivative() {
        for (boolean karras : new boolean[] {false, true}) {
            Map<Integer, double[]> s = run("euler", SamplerOptions.defaults().withKarras(karras), 0);
            float[] sig = karras ? sd.karrasSigmas(STEPS) : sd.discreteSigmas(STEPS);
            double[] x = s.get(0);
            double[] d = derivative(x, sig[0]);
            double[] want = new double[4];
            for (int k = 0; k < 4; k++) {
                want[k] = x[k] + d[k] * (sig[1] - sig[0]);
            }
            assertClose(want, s.get(1), "euler karras=" + karras);
        }
    }

    @Test
    void eulerAncestralStepsDownThenAddsNoise() {
        Map<Integer, double[]> s = run("euler_a", SamplerOptions.defaults(), 9);
        float[] sig = sd.discreteSigmas(STEPS);
        double from = sig[0];
        double to = sig[1];
        double up = Math.min(to, Math.sqrt(to * to * (from * from - to * to) / (from * from)));
        double down = Math.sqrt(to * to - up * up);
        float[] nf = new TorchGenerator(9).randn(1, 1, 2, 2).floats();
        double[] x = s.get(0);
        double[] d = derivative(x, sig[0]);
        double[] want = new double[4];
        for (int k = 0; k < 4; k++) {
            want[k] = x[k] + d[k] * (down - from) + nf[k] * up;
        }
        assertClose(want, s.get(1), "euler_a");
        // σ_up² + σ_down² = σ_to²: the marginal lands on the next level
        assertEquals(to * to, up * up + down * down, 1e-9 * to * to);
    }

    @Test
    void heunAveragesTheSlopesAtBothEnds() {
        Map<Integer, double[]> s = run("heun", SamplerOptions.defaults(), 0);
        float[] sig = sd.discreteSigmas(STEPS);
        double[] x = s.get(0);
        double dt = sig[1] - sig[0];
        double[] d = derivative(x, sig[0]);
        double[] x2 = new double[4];
        for (int k = 0; k < 4; k++) {
            x2[k] = x[k] + d[k] * dt;
        }
        double[] d2 = derivative(x2, sig[1]);
        double[] want = new double[4];
        for (int k = 0; k < 4; k++) {
            want[k] = x[k] + (d[k] + d2[k]) / 2 * dt;
        }
        assertClose(want, s.get(1), "heun");
    }

    @Test
    void lmsSecondStepUsesTheIntegratedLinearInterpolant() {
        Map<Integer, double[]> s = run("lms", SamplerOptions.defaults(), 0);
        float[] sig = sd.discreteSigmas(STEPS);
        double s0 = sig[0];
        double s1 = sig[1];
        double s2 = sig[2];
        double[] d0 = derivative(s.get(0), sig[0]);
        double[] firstWant = new double[4];
        for (int k = 0; k < 4; k++) {
            firstWant[k] = s.get(0)[k] + d0[k] * (s1 - s0); // order 1 = Euler
        }
        assertClose(firstWant, s.get(1), "lms step 1");
        // order 2: ∫_{σ1}^{σ2} (τ−σ0)/(σ1−σ0) dτ and ∫_{σ1}^{σ2} (τ−σ1)/(σ0−σ1) dτ, in closed form
        double cNew = ((s2 - s0) * (s2 - s0) - (s1 - s0) * (s1 - s0)) / (2 * (s1 - s0));
        double cOld = (s2 - s1) * (s2 - s1) / (2 * (s0 - s1));
        assertEquals(cNew, LmsSampler.coefficient(2, sig, 1, 0), 1e-9);
        assertEquals(cOld, LmsSampler.coefficient(2, sig, 1, 1), 1e-9);
        double[] x1 = s.get(1);
        double[] d1 = derivative(x1, sig[1]);
        double[] want = new double[4];
        for (int k = 0; k < 4; k++) {
            want[k] = x1[k] + cNew * d1[k] + cOld * d0[k];
        }
        assertClose(want, s.get(2), "lms step 2");
    }

    @Test
    void lmsCoefficientsOfEveryOrderSumToTheStepLength() {
        // The Lagrange basis sums to 1, so the weights integrate to σ_{i+1} − σ_i; and a cubic
        // through 4 nodes reproduces τ³ exactly, which the quadrature must integrate exactly.
        float[] t = {14.6f, 7.3f, 3.1f, 1.2f, 0.4f, 0f};
        for (int order = 1; order <= 4; order++) {
            int i = 3;
            double sum = 0;
            double cubic = 0;
            for (int j = 0; j < order; j++) {
                double c = LmsSampler.coefficient(order, t, i, j);
                sum += c;
                cubic += c * Math.pow(t[i - j], 3);
            }
            assertEquals((double) t[i + 1] - t[i], sum, 1e-12, "order " + order);
            if (order == 4) {
                double exact = (Math.pow(t[i + 1], 4) - Math.pow(t[i], 4)) / 4;
                assertEquals(exact, cubic, 1e-10 * Math.abs(exact));
            }
        }
    }

    @Test
    void dpmpp2mUsesTheExponentialIntegratorAndTheSecondOrderCorrection() {
        Map<Integer, double[]> s = run("dpmpp_2m", SamplerOptions.defaults().withKarras(true), 0);
        float[] sig = sd.karrasSigmas(STEPS);
        double[] x0 = s.get(0);
        double[] den0 = denoised(x0, sig[0]);
        double[] want1 = new double[4];
        for (int k = 0; k < 4; k++) {
            // first order: x·σ1/σ0 + (1 − e^{−h})·D with h = log(σ0/σ1)
            want1[k] = sig[1] / (double) sig[0] * x0[k] + (1 - sig[1] / (double) sig[0]) * den0[k];
        }
        assertClose(want1, s.get(1), "dpmpp_2m step 1");

        double[] x1 = s.get(1);
        double[] den1 = denoised(x1, sig[1]);
        double h = Math.log(sig[1] / (double) sig[2]);
        double hLast = Math.log(sig[0] / (double) sig[1]);
        double r = hLast / h;
        double[] want2 = new double[4];
        for (int k = 0; k < 4; k++) {
            double dMix = (1 + 1 / (2 * r)) * den1[k] - 1 / (2 * r) * den0[k];
            want2[k] = sig[2] / (double) sig[1] * x1[k] + (1 - Math.exp(-h)) * dMix;
        }
        assertClose(want2, s.get(2), "dpmpp_2m step 2");
    }
}
