package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.backend.cuda.Cuda;
import sdj.io.Json;
import sdj.io.TestData;
import sdj.nn.Parameter;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.train.optim.DynamicLossScaler;

/**
 * The trainer with {@code mixedPrecision fp16} on the GPU (or the host emulator): one DreamBooth step of sd-tiny at
 * 64² (one instance image, 8×8 latents) in fp16 with fp32 masters; the checkpoint holds the fp32 masters (not the
 * fp16-rounded weights), the loss scaler's state and the scheduler's step; the log line has the loss scale; a run
 * resumed from the checkpoint gets back the same scaler state and the exact masters.
 */
class CudaMixedPrecisionTrainerTest {
    private static final String UNET = "model.diffusion_model.";

    @TempDir
    Path dir;

    @Test
    void anFp16StepCheckpointsTheMastersAndTheScalerAndResumesThem() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Path instances = Files.createDirectories(dir.resolve("instances"));
        Files.copy(TestData.shared().resolve("testdata/sd-tiny-train/instance_0.png"), instances.resolve("a.png"));
        Trainer trainer = Trainer.open(config(instances, null), Device.CUDA, ClassImages.Listener.NONE);
        assertEquals(DType.F16, trainer.model().dtype());
        assertEquals(1, trainer.train());

        Map<String, Object> line = Json.parseObject(Files.readAllLines(dir.resolve("out/log.jsonl"),
                StandardCharsets.UTF_8).get(0));
        DynamicLossScaler.State scale = trainer.lossScale();
        boolean skipped = Boolean.TRUE.equals(line.get("skipped"));
        System.out.println("fp16 trainer step 1: " + line);
        // torch's rules: a finite step counts towards growth, an overflowing one halves the scale
        assertEquals(skipped ? new DynamicLossScaler.State(32768f, 0) : new DynamicLossScaler.State(65536f, 1), scale);
        assertEquals((double) scale.scale(), ((Number) line.get("loss_scale")).doubleValue());
        assertEquals(skipped ? 1 : 0, trainer.skippedSteps());

        TrainingCheckpoint ck = TrainingCheckpoint.load(dir.resolve("out/checkpoint-1"));
        assertEquals(scale, ck.lossScale());
        assertEquals(trainer.skippedSteps(), ck.skippedSteps());
        Map<String, float[]> masters = new LinkedHashMap<>();
        int offGrid = 0;
        for (Parameter p : trainer.model().store().trainable()) {
            float[] master = p.master().to(Device.CPU, DType.F32).toFloatArray();
            masters.put(p.name(), master);
            assertArrayEquals(master, ck.weights().get(p.name()).toFloatArray(), 0f, p.name() + " saved as its master");
            for (float v : master) {
                offGrid += v != Float.float16ToFloat(Float.floatToFloat16(v)) ? 1 : 0;
            }
        }
        assertTrue(offGrid > 0, "the saved weights are fp32 masters, not fp16 values");

        Trainer resumed = Trainer.open(config(instances, "latest"), Device.CUDA, ClassImages.Listener.NONE);
        assertEquals(1, resumed.globalStep());
        assertEquals(scale, resumed.lossScale());
        assertEquals(trainer.skippedSteps(), resumed.skippedSteps());
        List<Parameter> params = resumed.model().store().trainable();
        assertEquals(List.copyOf(masters.keySet()), params.stream().map(Parameter::name).toList());
        assertTrue(masters.keySet().stream().allMatch(n -> n.startsWith(UNET)), "DreamBooth trains the UNet");
        for (Parameter p : params) {
            assertEquals(DType.F16, p.tensor().dtype(), p.name());
            assertArrayEquals(masters.get(p.name()), p.master().to(Device.CPU, DType.F32).toFloatArray(), 0f, p.name());
        }
    }

    private TrainConfig config(Path instances, String resumeFrom) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString());
        m.put("modelConfig", "../models/sd-tiny.json");
        m.put("tokenizerName", "../models/clip/bpe_simple_vocab_16e6.txt.gz");
        m.put("instanceDataDir", instances.toString());
        m.put("instancePrompt", "a photo of sks dog");
        m.put("resolution", 64);
        m.put("centerCrop", true);
        m.put("trainBatchSize", 1);
        m.put("maxTrainSteps", 1);
        m.put("checkpointingSteps", 1);
        m.put("learningRate", 1e-3);
        m.put("seed", 1234L);
        m.put("mixedPrecision", "fp16");
        m.put("outputDir", dir.resolve("out").toString());
        m.put("resumeFromCheckpoint", resumeFrom);
        return TrainConfig.defaults().with(m);
    }
}
