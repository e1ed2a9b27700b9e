package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.backend.cuda.Cuda;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.AdamWStep;
import sdj.tensor.Backends;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * kernels/optim.cu against its CPU twin (on the GPU, or on the host emulator without one): the same float32
 * operations, so the results agree bit for bit; and AdamW's fp32 master weights for an fp16 parameter.
 */
class CudaOptimTest {
    private static final int N = 1000; // not a multiple of the 256-thread block

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void adamwKernelMatchesTheCpuBitForBit(DType dtype) {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        float[] p = rounded(random(1, 2f), dtype);
        float[] g = random(2, 0.1f);
        for (int i = 0; i < N; i += 7) {
            g[i] *= 1e-7f; // gradients near ε, where the update is most sensitive
        }
        float[] m = random(3, 0.01f);
        float[] v = random(4, 0.01f);
        for (int i = 0; i < N; i++) {
            v[i] *= v[i];
        }
        AdamWStep step = new AdamWStep(1e-3, 0.9, 0.999, 1e-8, 1e-2, 3);
        Tensor cp = Tensor.of(p.clone(), N), cm = Tensor.of(m.clone(), N), cv = Tensor.of(v.clone(), N);
        Backends.cpu().adamwStep(cp, Tensor.of(g.clone(), N), cm, cv, step);

        Tensor dp = Tensor.of(p.clone(), N).to(Device.CUDA, dtype);
        Tensor dm = Tensor.of(m.clone(), N).to(Device.CUDA, DType.F32);
        Tensor dv = Tensor.of(v.clone(), N).to(Device.CUDA, DType.F32);
        Backends.of(Device.CUDA).adamwStep(dp, Tensor.of(g.clone(), N).to(Device.CUDA, DType.F32), dm, dv, step);

        assertArrayEquals(cm.floats(), dm.cpu().floats(), 0f, "exp_avg");
        assertArrayEquals(cv.floats(), dv.cpu().floats(), 0f, "exp_avg_sq");
        assertArrayEquals(rounded(cp.floats(), dtype), dp.cpu().to(DType.F32).floats(), 0f, "param " + dtype);
        assertTrue(maxDiff(p, cp.floats()) > 5e-4, "the step moved the parameter");
    }

    @Test
    void anFp16ParameterIsUpdatedThroughItsFp32Master() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        float[] w0 = rounded(random(5, 1f), DType.F16);
        Parameter cpu = param(w0, Device.CPU, DType.F32);
        Parameter gpu = param(w0, Device.CUDA, DType.F16);
        AdamW onCpu = AdamW.of(List.of(cpu), 1e-4, 1e-2);
        AdamW onGpu = AdamW.of(List.of(gpu), 1e-4, 1e-2);
        for (int k = 0; k < 2; k++) {
            float[] g = rounded(random(10 + k, 0.5f), DType.F16); // backward leaves fp16 gradients
            cpu.tensor().setGrad(Tensor.of(g.clone(), N));
            gpu.tensor().setGrad(Tensor.of(g.clone(), N).to(Device.CUDA, DType.F16));
            onCpu.step();
            onGpu.step();
        }
        assertEquals(DType.F32, gpu.master().dtype());
        assertArrayEquals(cpu.tensor().floats(), gpu.master().cpu().floats(), 0f, "master weights");
        assertArrayEquals(rounded(cpu.tensor().floats(), DType.F16), gpu.tensor().cpu().to(DType.F32).floats(), 0f,
                "the fp16 tensor is its master rounded");
        assertArrayEquals(onCpu.expAvgSq(cpu).floats(), onGpu.expAvgSq(gpu).cpu().floats(), 0f, "exp_avg_sq");
        // lr 1e-4 steps are below fp16's resolution for |w| ≥ 0.25 (ulp 2^-12): only the master keeps them
        float[] master = gpu.master().cpu().floats();
        assertTrue(maxDiff(master, w0) > 1.5e-4 && maxDiff(rounded(master, DType.F16), master) > 0, "master moved");
    }

    @Test
    void clippingOnTheDeviceMatchesTheCpu() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        float[] a = random(20, 3f);
        float[] b = random(21, 1f);
        Tensor ca = Tensor.of(a.clone(), N), cb = Tensor.of(b.clone(), 10, 100);
        Tensor da = Tensor.of(a.clone(), N).to(Device.CUDA, DType.F32);
        Tensor db = Tensor.of(b.clone(), 10, 100).to(Device.CUDA, DType.F32);
        float cpuNorm = GradClip.clipGradNorm(List.of(ca, cb), 1.0);
        float gpuNorm = GradClip.clipGradNorm(List.of(da, db), 1.0);
        double exact = 0;
        for (int i = 0; i < N; i++) {
            exact += (double) a[i] * a[i] + (double) b[i] * b[i];
        }
        exact = Math.sqrt(exact);
        assertEquals(exact, cpuNorm, 1e-6 * exact);
        assertEquals(exact, gpuNorm, 1e-6 * exact);
        assertArrayEquals(ca.floats(), da.cpu().floats(), 1e-6f * 3f / (float) exact);
        assertArrayEquals(cb.floats(), db.cpu().floats(), 1e-6f / (float) exact);
        assertEquals(a[0] / exact, ca.floats()[0], 1e-6 * Math.abs(a[0] / exact) + 1e-12);
    }

    private static Parameter param(float[] w, Device device, DType dtype) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(w.clone(), N));
        ParameterStore store = ParameterStore.fromStateDict(sd, "test").placedOn(device, dtype);
        Parameter p = store.root().param("w", ParameterStore.Init.ZEROS, N);
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

    private static float[] rounded(float[] v, DType dtype) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> v[i];
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(v[i]));
                case BF16 -> Float.intBitsToFloat((Storage.floatToBf16(v[i]) & 0xffff) << 16);
                default -> throw new IllegalArgumentException(dtype.toString());
            };
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
