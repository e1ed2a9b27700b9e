package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.backend.cuda.Cuda;

/**
 * --device and --precision on the commands that compute. On a machine without a GPU (this one, in CI)
 * --device cuda must end in one sentence naming the problem and the way out, with no stack trace and
 * before any weights are read.
 */
class DeviceFlagsTest {
    private static final Path SD_TINY = Path.of(System.getProperty("sdj.shared", "../../shared"), "testdata", "sd-tiny");

    @TempDir
    Path tmp;

    private static void assertOneSentenceNoGpu(CliRun run, String command) {
        assertEquals(1, run.status(), run.err());
        String err = run.err().strip();
        assertFalse(err.contains("\n"), "one line, got:\n" + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace or exception name: " + err);
        assertTrue(err.startsWith("sdj " + command + ": --device cuda: no usable CUDA device or driver was found ("), err);
        assertTrue(err.endsWith("); use --device cpu"), err);
        assertTrue(err.contains(Cuda.unavailableReason()), "says why: " + err);
        assertEquals("", run.out(), "nothing computed, nothing printed");
    }

    @Test
    void cudaWithoutAGpuIsOneSentenceOnEveryComputingCommand() {
        assumeFalse(Cuda.available(), "this machine has a GPU");
        String ckpt = SD_TINY.resolve("model.ckpt").toString();
        assertOneSentenceNoGpu(CliRun.sdj("txt2img", "--prompt", "a cat", "--ckpt", ckpt, "--config",
                "../models/sd-tiny.json", "--device", "cuda", "--outdir", tmp.toString()), "txt2img");
        assertOneSentenceNoGpu(CliRun.sdj("verify", "--ckpt", ckpt, "--reference",
                SD_TINY.resolve("reference.safetensors").toString(), "--device", "cuda", "--precision", "fp32"), "verify");
        assertOneSentenceNoGpu(CliRun.sdj("bench", "unet", "--device", "cuda", "--precision", "fp16", "--latent", "64"),
                "bench");
        assertOneSentenceNoGpu(CliRun.sdj("bench", "gemm", "--device", "cuda"), "bench");
    }

    @Test
    void halfPrecisionOnTheCpuIsRefused() {
        CliRun run = CliRun.sdj("bench", "gemm", "--precision", "fp16", "--m", "8", "--n", "8", "--k", "8");
        assertEquals(1, run.status());
        assertEquals("sdj bench: --precision fp16 needs --device cuda; the cpu computes and stores weights in fp32",
                run.err().strip());
    }

    @Test
    void unknownDeviceAndPrecisionAreNamed() {
        CliRun device = CliRun.sdj("bench", "gemm", "--device", "tpu");
        assertEquals(1, device.status());
        assertEquals("sdj bench: unknown device 'tpu' (use cpu or cuda)", device.err().strip());
        CliRun precision = CliRun.sdj("bench", "gemm", "--device", "cpu", "--precision", "fp8");
        assertEquals(1, precision.status());
        assertEquals("sdj bench: unknown precision 'fp8' (use fp16, bf16 or fp32)", precision.err().strip());
    }
}
