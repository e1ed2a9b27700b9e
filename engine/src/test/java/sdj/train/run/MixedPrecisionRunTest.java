package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.Json;
import sdj.tensor.Tensor;
import sdj.train.data.DataPosition;
import sdj.train.optim.DynamicLossScaler;

/**
 * The run-level parts of mixed precision that need no GPU: the loss scaler's state and the skipped-step count
 * survive a checkpoint (and a bad entry is one sentence), the cpu refuses fp16/bf16 before reading any weights,
 * and the config knows accelerate's three choices only.
 */
class MixedPrecisionRunTest {
    @TempDir
    Path dir;

    @Test
    void aCheckpointKeepsTheLossScaleAndTheSchedulersOwnStepCount() throws IOException {
        Map<String, Tensor> weights = Map.of("w", Tensor.of(new float[] {0.5f, -1.25f}, 2));
        TrainingCheckpoint saved = new TrainingCheckpoint(7, 1234, new DataPosition(1, 3), weights, Map.of(), Map.of(),
                Map.of("w", 0L), RunOptimizer.ADAMW, Map.of(), TrainConfig.defaults().with(Map.of("mixedPrecision",
                "fp16")), 3,
                new DynamicLossScaler.State(8192f, 17));
        Path folder = saved.save(dir, TrainingCheckpoint.WriteHook.NONE);
        Map<String, Object> state = Json.parseObject(Files.readString(folder.resolve(TrainingCheckpoint.STATE)));
        assertEquals(7L, state.get("globalStep"));
        assertEquals(4L, state.get("schedulerStep")); // 7 steps, 3 of them skipped: the schedule stepped 4 times

        TrainingCheckpoint loaded = TrainingCheckpoint.load(folder);
        assertEquals(3, loaded.skippedSteps());
        assertEquals(new DynamicLossScaler.State(8192f, 17), loaded.lossScale());
        assertEquals("fp16", loaded.config().mixedPrecision());
        assertArrayEquals(new float[] {0.5f, -1.25f}, loaded.weights().get("w").toFloatArray(), 0f);

        // a run without loss scaling writes none and reads back none
        TrainingCheckpoint plain = TrainingCheckpoint.load(new TrainingCheckpoint(2, 1, DataPosition.START, weights,
                Map.of(), Map.of(), Map.of("w", 0L), TrainConfig.defaults()).save(dir, TrainingCheckpoint.WriteHook.NONE));
        assertNull(plain.lossScale());
        assertEquals(0, plain.skippedSteps());
    }

    @Test
    void aBadLossScaleEntryIsOneSentence() throws IOException {
        Map<String, Tensor> weights = Map.of("w", Tensor.of(new float[] {1f}, 1));
        Path folder = new TrainingCheckpoint(2, 1, DataPosition.START, weights, Map.of(), Map.of(), Map.of("w", 0L),
                RunOptimizer.ADAMW, Map.of(), TrainConfig.defaults(), 0, new DynamicLossScaler.State(65536f, 2))
                .save(dir, TrainingCheckpoint.WriteHook.NONE);
        Path statePath = folder.resolve(TrainingCheckpoint.STATE);
        Map<String, Object> state = new LinkedHashMap<>(Json.parseObject(Files.readString(statePath)));
        state.put("lossScale", Map.of("scale", -1.0, "growthTracker", 2L));
        Files.writeString(statePath, Json.write(state));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.load(folder));
        assertEquals("Checkpoint state " + statePath + " has a \"lossScale\" that is not {\"scale\": a number > 0,"
                + " \"growthTracker\": an integer ≥ 0}; resume from another checkpoint.", e.getMessage());
    }

    @Test
    void theCpuRefusesHalfPrecisionBeforeReadingWeights() {
        for (String precision : new String[] {"fp16", "bf16"}) {
            TrainConfig config = TrainConfig.defaults().with(Map.of("pretrainedModelNameOrPath",
                    dir.resolve("absent.ckpt").toString(), "tokenizerName", "vocab.txt", "instanceDataDir", "images",
                    "instancePrompt", "a photo of sks dog", "outputDir", dir.resolve("out").toString(),
                    "mixedPrecision", precision));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.open(config));
            assertEquals("mixedPrecision " + precision + " needs the cuda device; the cpu computes in fp32, so train on"
                    + " cuda or set mixedPrecision to \"no\".", e.getMessage());
        }
    }

    @Test
    void onlyAcceleratesChoicesAreAccepted() {
        TrainConfig config = TrainConfig.defaults().with(Map.of("mixedPrecision", "fp8"));
        assertEquals(true, config.validate().contains("mixedPrecision 'fp8' is unknown; use \"no\" (fp32), or \"fp16\""
                + " or \"bf16\" on the cuda device."), config.validate().toString());
        for (String ok : new String[] {"no", "fp16", "bf16"}) {
            assertEquals(false, TrainConfig.defaults().with(Map.of("mixedPrecision", ok)).validate().stream()
                    .anyMatch(s -> s.startsWith("mixedPrecision")), ok);
        }
    }
}
