package sdj.sd.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import sdj.random.TorchGenerator;
import sdj.tensor.Tensor;

class SamplersTest {
    private final Schedule sd = Schedule.sdV1();

    @Test
    void byNameKnowsEverySamplerAndListsThemOnError() {
        for (String name : List.of("ddim", "plms", "euler", "euler_a", "heun", "lms", "dpmpp_2m", "ddpm")) {
            assertEquals(name, Samplers.byName(name, SamplerOptions.defaults()).name());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Samplers.byName("k_euler", SamplerOptions.defaults()));
        assertTrue(e.getMessage().contains("k_euler"));
        assertTrue(e.getMessage().contains("ddim, plms, ddpm, euler, euler_a, heun, lms, dpmpp_2m"), e.getMessage());
    }

    @Test
    void invalidOptionCombinationsAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> Samplers.byName("plms", SamplerOptions.defaults().withEta(0.5)));
        assertThrows(IllegalArgumentException.class,
                () -> Samplers.byName("ddim", SamplerOptions.defaults().withKarras(true)));
        assertThrows(IllegalArgumentException.class,
                () -> Samplers.byName("ddim", SamplerOptions.defaults().withEta(-1)));
    }

    @Test
    void progressCountsTheStepsActuallyRun() {
        GaussianData data = new GaussianData(0, 1, sd);
        Tensor xT = new TorchGenerator(1).randn(1, 4, 2, 2);
        List<String> seen = new ArrayList<>();
        Samplers.byName("ddim", SamplerOptions.defaults()).sample(data, xT, 30, new TorchGenerator(0),
                (step, total) -> seen.add(step + "/" + total));
        assertEquals(31, seen.size()); // CompVis spacing: 30 requested -> 31 timesteps
        assertEquals("1/31", seen.get(0));
        assertEquals("31/31", seen.get(30));
        data.calls = 0;
        Samplers.byName("heun", SamplerOptions.defaults()).sample(data, xT, 10, new TorchGenerator(0),
                ProgressListener.NONE);
        assertEquals(19, data.calls); // two evaluations per step, one on the last step to σ = 0
        data.calls = 0;
        Samplers.byName("plms", SamplerOptions.defaults()).sample(data, xT, 10, new TorchGenerator(0),
                ProgressListener.NONE);
        assertEquals(11, data.calls); // one extra call on the first step
    }

    @Test
    void noiseMatchesQSampleAndTheSigmaView() {
        Tensor x0 = Tensor.of(new float[] {0.5f, -1f}, 1, 2, 1, 1);
        Tensor eps = Tensor.of(new float[] {1f, 2f}, 1, 2, 1, 1);
        // DDIM with 50 steps: step index 10 runs at timestep ddim_timesteps[39] = 781
        float[] q = Samplers.byName("ddim", SamplerOptions.defaults()).noise(x0, eps, 50, 10).floats();
        double a = sd.alphaCumprod(781);
        assertEquals(Math.sqrt(a) * 0.5 + Math.sqrt(1 - a) * 1, q[0], 1e-6);
        float[] k = Samplers.byName("euler", SamplerOptions.defaults()).noise(x0, eps, 50, 10).floats();
        float sigma = sd.discreteSigmas(50)[10];
        assertArrayEquals(new float[] {0.5f + sigma, -1f + 2 * sigma}, k, 1e-6f);
        // index n (strength 0): the finished level, i.e. clean for k-diffusion and DDPM
        assertArrayEquals(x0.floats(), Samplers.byName("euler", SamplerOptions.defaults()).noise(x0, eps, 50, 50).floats());
        assertArrayEquals(x0.floats(), Samplers.byName("ddpm", SamplerOptions.defaults()).noise(x0, eps, 50, 50).floats(),
                1e-7f);
    }

    @Test
    void img2imgFollowsTheExactFlowFromThePartlyNoisedImage() {
        // Deterministic img2img on Gaussian data: from x0 + σ_start·ε the ODE to σ = 0 has a closed form.
        GaussianData data = new GaussianData(0.5, 0.6, sd);
        Tensor x0 = new TorchGenerator(21).randn(1, 4, 4, 4).mul(0.6f).add(0.5f);
        Tensor eps = new TorchGenerator(22).randn(1, 4, 4, 4);
        Sampler heun = Samplers.byName("heun", SamplerOptions.defaults().withKarras(true));
        int steps = 40;
        int start = heun.startIndexForStrength(steps, 0.5);
        assertEquals(20, start);
        Tensor xStart = heun.noise(x0, eps, steps, start);
        int[] total = {0};
        float[] out = heun.sampleFrom(data, xStart, steps, start, new TorchGenerator(0), (s, t) -> total[0] = t).floats();
        assertEquals(20, total[0]);
        float sigmaStart = sd.karrasSigmas(steps)[start];
        float sigmaLast = sd.karrasSigmas(steps)[steps - 1];
        float[] xs = xStart.floats();
        for (int i = 0; i < out.length; i++) {
            // exact flow to σ_min, then the final Euler step lands on D(x, σ_min)
            double atMin = data.flow(xs[i], sigmaStart, sigmaLast);
            double s2 = 0.36;
            double want = 0.5 + s2 / (s2 + sigmaLast * (double) sigmaLast) * (atMin - 0.5);
            // Heun's discretization error over these 20 Karras steps: measured ≤ 2.2e-3 · |x − μ|
            assertEquals(want, out[i], 1e-4 + 4e-3 * Math.abs(want - 0.5));
        }
        // strength 0 runs no step and returns the (un-noised at index n) input unchanged
        assertEquals(steps, heun.startIndexForStrength(steps, 0));
        assertArrayEquals(x0.floats(), heun.sampleFrom(data, x0, steps, steps, new TorchGenerator(0),
                ProgressListener.NONE).floats());
    }

    @Test
    void stepHookSeesEveryStepAndCanReplaceTheLatent() {
        GaussianData data = new GaussianData(0, 1, sd);
        Tensor xT = new TorchGenerator(1).randn(1, 4, 2, 2);
        List<Integer> indices = new ArrayList<>();
        Sampler s = Samplers.byName("ddim", SamplerOptions.defaults().withHook((x, i) -> {
            indices.add(i);
            return Tensor.zeros(x.shape()); // an inpainting mask covering everything
        }));
        float[] out = s.sampleFrom(data, xT, 10, 4, new TorchGenerator(0), ProgressListener.NONE).floats();
        assertEquals(List.of(4, 5, 6, 7, 8, 9), indices);
        // the last step started from 0, whose ε under N(0,1) data is 0: the result stays 0
        assertArrayEquals(new float[out.length], out, 1e-6f);
    }
}
