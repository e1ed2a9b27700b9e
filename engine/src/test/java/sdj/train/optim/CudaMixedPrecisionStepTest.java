package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The fp16 loss scaler and the master-weight step on the GPU (or the host emulator): unscaling fp16 gradients
 * matches the CPU bit for bit, an inf or NaN anywhere is found, and an injected inf gradient skips the step
 * (weights, master, moments and step count unchanged, scale halved) while the next finite step updates the fp32
 * master exactly as fp32 AdamW on the CPU does.
 */
class CudaMixedPrecisionStepTest {
    private static final int N = 1000; // not a multiple of the 256-thread block

    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
    }

    @Test
    void unscalingFp16GradientsMatchesTheCpuAndFindsInfAndNan() {
        float[] g = half(random(1, 60000f)); // scaled gradients near fp16's top
        DynamicLossScaler scaler = new DynamicLossScaler();
        Tensor cpu = Tensor.of(g.clone(), N);
        Tensor gpu = Tensor.of(g.clone(), N).to(Device.CUDA, DType.F16).to(Device.CUDA, DType.F32);
        assertTrue(scaler.unscale(List.of(cpu)));
        assertTrue(scaler.unscale(List.of(gpu)));
        assertArrayEquals(cpu.floats(), gpu.cpu().floats(), 0f);
        assertEquals(g[7] / 65536f, cpu.floats()[7], 0f); // a power of two: exact

        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN}) {
            float[] broken = g.clone();
            broken[N - 1] = bad; // the last element: the tail of the last block
            Tensor fine = Tensor.of(g.clone(), 10, 100).to(Device.CUDA, DType.F32);
            Tensor withBad = Tensor.of(broken, N).to(Device.CUDA, DType.F16).to(Device.CUDA, DType.F32);
            assertFalse(scaler.unscale(List.of(fine, withBad)), "found " + bad);
        }
    }

    @Test
    void anInjectedInfGradientSkipsTheStepAndHalvesTheScale() {
        float[] w0 = random(5, 1f);
        Parameter gpu = fp16Param(w0);
        Parameter cpu = fp32Param(w0);
        AdamW onGpu = AdamW.of(List.of(gpu), 1e-3, 1e-2);
        AdamW onCpu = AdamW.of(List.of(cpu), 1e-3, 1e-2);
        MasterWeightStep gpuStep = new MasterWeightStep(List.of(gpu), onGpu::step, new DynamicLossScaler(), 1e9);
        MasterWeightStep cpuStep = new MasterWeightStep(List.of(cpu), onCpu::step, null, 1e9);
        float[] masterBefore = gpu.master().cpu().floats();
        float[] halfBefore = gpu.tensor().cpu().to(DType.F32).floats();

        float[] scaled = half(random(6, 30000f));
        scaled[123] = Float.POSITIVE_INFINITY; // what an fp16 overflow in backward leaves
        gpu.tensor().setGrad(Tensor.of(scaled, N).to(Device.CUDA, DType.F16));
        MasterWeightStep.Outcome skipped = gpuStep.step();
        assertEquals(MasterWeightStep.Kind.SKIPPED, skipped.kind());
        assertEquals(32768f, gpuStep.scaler().scale());
        assertEquals(0, gpuStep.scaler().growthTracker());
        assertEquals(0, onGpu.stepCount(gpu));
        assertNull(onGpu.expAvg(gpu));
        assertArrayEquals(masterBefore, gpu.master().cpu().floats(), 0f, "master unchanged");
        assertArrayEquals(halfBefore, gpu.tensor().cpu().to(DType.F32).floats(), 0f, "fp16 weights unchanged");

        // the next, finite step at the halved scale: unscaled gradients g = scaled/32768 update the master
        float[] g = half(random(7, 0.5f));
        float[] rescaled = new float[N];
        for (int i = 0; i < N; i++) {
            rescaled[i] = g[i] * 32768f; // exact: fp16 values times a power of two
        }
        gpu.tensor().setGrad(Tensor.of(rescaled, N).to(Device.CUDA, DType.F16));
        cpu.tensor().setGrad(Tensor.of(g.clone(), N));
        assertEquals(MasterWeightStep.Kind.APPLIED, gpuStep.step().kind());
        assertEquals(MasterWeightStep.Kind.APPLIED, cpuStep.step().kind());
        assertEquals(1, gpuStep.scaler().growthTracker());
        assertArrayEquals(cpu.tensor().floats(), gpu.master().cpu().floats(), 0f, "master = fp32 AdamW on the CPU");
        assertArrayEquals(half(cpu.tensor().floats()), gpu.tensor().cpu().to(DType.F32).floats(), 0f,
                "the fp16 weights are the master rounded");
        assertTrue(maxDiff(masterBefore, gpu.master().cpu().floats()) > 9e-4, "the step moved the master by ~lr");
    }

    private static Parameter fp16Param(float[] w) {
        Map<String, Tensor> sd = Map.of("w", Tensor.of(w.clone(), N));
        ParameterStore store = ParameterStore.fromStateDict(sd, "test").placedOn(Device.CUDA, DType.F16);
        Parameter p = store.root().param("w", ParameterStore.Init.ZEROS, N);
        p.trainable(true);
        MixedPrecision.startMasters(List.of(p), sd);
        assertArrayEquals(w, p.master().cpu().floats(), 0f, "the master starts from the exact fp32 values");
        return p;
    }

    private static Parameter fp32Param(float[] w) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(w.clone(), N));
        Parameter p = ParameterStore.fromStateDict(sd, "test").root().param("w", ParameterStore.Init.ZEROS, N);
        p.trainable(true);
        return p;
    }

    private static float[] random(long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }

    private static float[] half(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
        }
        return out;
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
