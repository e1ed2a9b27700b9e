package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.backend.cuda.Cuda;
import sdj.io.Json;
import sdj.train.cd.DeltaFiles;

/**
 * `sdj train lora|custom-diffusion --device cuda`: one step of sd-tiny at 64² on cuda (the GPU or its emulator) says
 * so on its start line, writes its result, and logs the loss of the same step on the cpu (1e-5 relative: the same
 * seed draws the same host noise and timesteps); fp16 without cuda is one sentence before any work, as dreambooth's.
 * The tools' tests do not start the host emulator (DeviceFlagsTest checks the no-GPU sentence), so the cuda runs
 * here need a GPU, or the emulator forced for the run: {@code -Dsdj.jvm.flags="@$PWD/jvm.flags
 * -Dsdj.cuda.emulator=fallback"} (then DeviceFlagsTest's no-GPU check is skipped instead); the engine's
 * CudaMethodsParityTest covers the same steps on the emulator in every build.
 */
class TrainMethodsOnCudaTest {
    private static final String VOCAB = "../models/clip/bpe_simple_vocab_16e6.txt.gz";

    @TempDir
    Path dir;

    @Test
    void loraTrainsOnCudaWithTheCpuLoss() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        CliRun cpu = train("lora", "lora-cpu");
        CliRun cuda = train("lora", "lora-cuda", "--device", "cuda");
        assertEquals(0, cpu.status(), cpu.err());
        assertEquals(0, cuda.status(), cuda.err());
        assertTrue(cuda.err().contains(", on cuda (") && !cpu.err().contains("on cuda"), cuda.err());
        assertTrue(Files.isRegularFile(dir.resolve("lora-cuda/last.safetensors")), cuda.out());
        assertEquals(loss("lora-cpu"), loss("lora-cuda"), 1e-5 * loss("lora-cpu"));
    }

    @Test
    void customDiffusionTrainsOnCudaWithTheCpuLoss() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        CliRun cpu = train("custom-diffusion", "cd-cpu");
        CliRun cuda = train("custom-diffusion", "cd-cuda", "--device", "cuda");
        assertEquals(0, cpu.status(), cpu.err());
        assertEquals(0, cuda.status(), cuda.err());
        assertTrue(cuda.err().contains(", on cuda (") && !cpu.err().contains("on cuda"), cuda.err());
        assertTrue(Files.isRegularFile(dir.resolve("cd-cuda").resolve(DeltaFiles.COMPVIS_FILE)), cuda.out());
        assertEquals(loss("cd-cpu"), loss("cd-cuda"), 1e-5 * loss("cd-cpu"));
    }

    @Test
    void halfPrecisionOnTheCpuIsOneSentenceForEveryMethod() throws IOException {
        for (String method : List.of("lora", "custom-diffusion")) {
            CliRun r = train(method, method + "-fp16", "--mixed-precision", "fp16");
            assertEquals(2, r.status(), r.err());
            assertEquals("sdj train: --mixed-precision fp16 needs --device cuda; the cpu computes in fp32, so add"
                    + " --device cuda or leave --mixed-precision out.\n", r.err());
            assertFalse(Files.exists(dir.resolve(method + "-fp16")), "refused before the output folder was made");
        }
    }

    private CliRun train(String method, String out, String... extra) throws IOException {
        Path instances = dir.resolve("instances");
        if (!Files.isDirectory(instances)) {
            Files.createDirectories(instances);
            Files.copy(TrainCommandTest.trainReference().resolve("instance_0.png"), instances.resolve("a.png"));
        }
        List<String> args = new ArrayList<>(List.of("train", method, "--ckpt", IoCommandsTest.sdTiny("model.ckpt")
                .toString(), "--model-config", "../models/sd-tiny.json", "--vocab", VOCAB, "--instance-data-dir",
                instances.toString(), "--resolution", "64", "--train-batch-size", "1", "--max-train-steps", "1",
                "--learning-rate", "1e-3", "--seed", "7", "--output-dir", dir.resolve(out).toString()));
        if (method.equals("lora")) {
            args.addAll(List.of("--instance-prompt", "a photo of sks dog", "--output-name", "last"));
        } else {
            args.addAll(List.of("--instance-prompt", "photo of a <new1> cat", "--initializer-token", "ktn"));
        }
        args.addAll(List.of(extra));
        return CliRun.sdj(args.toArray(String[]::new));
    }

    private double loss(String out) throws IOException {
        String first = Files.readAllLines(dir.resolve(out).resolve("log.jsonl"), StandardCharsets.UTF_8).get(0);
        return ((Number) Json.parseObject(first).get("loss")).doubleValue();
    }
}
