package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.verify.Check;
import sdj.sd.verify.ReferenceRun;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * sd-tiny on the GPU: {@code sdj verify --device cuda}'s checks (CLIP, UNet, VAE both ways, DDIM and
 * PLMS) against the reference tensors, and the three networks on CUDA against the same networks on the
 * CPU. Skipped with the CUDA probe's one-line reason where there is no GPU.
 *
 * <p>Tolerances, as max |gpu − reference| over the reference's scale ({@link Check}): fp32 is held to
 * twice the CPU's (forward 2e-4, samplers 2e-3; reduction order differs, no TF32); fp16 to ×100
 * (forward 1e-2, samplers 1e-1), since every weight and activation is rounded to 11 bits
 * ({@link ReferenceRun#deviceToleranceScale}). CPU-vs-CUDA: fp32 1e-3, fp16 3e-2 of the CPU output's scale.
 */
class CudaSdTinyParityTest {
    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
    }

    @Test
    void verifyPassesInFp32() throws Exception {
        assertAllPass(verify(DType.F32));
    }

    @Test
    void verifyPassesInFp16() throws Exception {
        // ~4 minutes on the host emulator (40 UNet forwards); its fp16 kernels are covered there by
        // networksOnCudaMatchTheCpuInFp16 and this full run waits for a GPU.
        assumeFalse(Cuda.device().isEmulated(), "skipped on the CUDA emulator: slow; runs on a GPU");
        assertAllPass(verify(DType.F16));
    }

    private static List<Check> verify(DType dtype) throws Exception {
        List<Check> checks = new ArrayList<>();
        ReferenceRun.run(TestData.sdTiny("model.ckpt"), TestData.sdTiny("reference.safetensors"), Device.CUDA, dtype,
                checks::add);
        return checks;
    }

    private static void assertAllPass(List<Check> checks) throws Exception {
        String failed = checks.stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);
        // clip, unet, vae decode + encode, grad.loss, grad.x, every listed weight gradient, ddim10, plms10
        assertEquals(SdTinyParityTest.expectedChecks(), checks.size(),
                checks.stream().map(Check::name).collect(Collectors.joining(", ")));
    }

    @Test
    void networksOnCudaMatchTheCpuInFp32() throws Exception {
        compareWithCpu(DType.F32, 1e-3);
    }

    @Test
    void networksOnCudaMatchTheCpuInFp16() throws Exception {
        compareWithCpu(DType.F16, 3e-2);
    }

    private static void compareWithCpu(DType precision, double tolerance) throws Exception {
        Map<String, Tensor> ref = SafeTensors.open(TestData.sdTiny("reference.safetensors")).tensors();
        ModelConfigs configs = ModelConfigFiles.fromMetadata(
                SafeTensors.open(TestData.sdTiny("reference.safetensors")).metadata(), "reference.safetensors");
        StableDiffusionModel cpu = StableDiffusionModel.fromStateDict(StateDicts.load(TestData.sdTiny("model.ckpt")),
                configs, "model.ckpt");
        StableDiffusionModel gpu = cpu.to(Device.CUDA, precision);
        assertEquals(Device.CUDA, gpu.device());
        assertEquals(precision, gpu.dtype());
        DType dt = precision;
        try (var g = Autograd.noGrad()) {
            Tensor ids = ref.get("clip.input_ids");
            close("clip", cpu.clip().forward(ids), gpu.clip().forward(ids), tolerance);

            Tensor x = ref.get("unet.x");
            float[] t = ref.get("unet.t").toFloatArray();
            Tensor ctx = ref.get("unet.context");
            close("unet", cpu.unet().forward(x, t, ctx), gpu.unet().forward(x.to(Device.CUDA, dt), t,
                    ctx.to(Device.CUDA, dt)), tolerance);

            Tensor z = ref.get("vae.z");
            close("vae decode", cpu.vae().decode(z), gpu.vae().decode(z.to(Device.CUDA, dt)), tolerance);
            Tensor image = ref.get("vae.image");
            close("vae encode", cpu.vae().encodeMoments(image), gpu.vae().encodeMoments(image.to(Device.CUDA, dt)),
                    tolerance);
        }
    }

    private static void close(String what, Tensor cpu, Tensor gpu, double tolerance) {
        assertTrue(gpu.isCuda(), what + " ran on the GPU");
        float[] expected = cpu.toFloatArray();
        float[] actual = gpu.to(Device.CPU, DType.F32).toFloatArray();
        assertEquals(expected.length, actual.length, what + " size");
        double maxErr = 0;
        double maxRef = 1e-12;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.abs((double) expected[i] - actual[i]);
            maxErr = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(maxErr, e);
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        assertTrue(maxErr <= tolerance * maxRef, String.format("%s: max |gpu - cpu| %.3g > %.1g x max |cpu| %.3g", what,
                maxErr, tolerance, maxRef));
    }
}
