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
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.Parameter;
import sdj.ops.Cast;
import sdj.random.TorchGenerator;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.data.DataPosition;
import sdj.train.optim.DynamicLossScaler;
import sdj.train.optim.ParamGroup;

/**
 * The trainer with {@code mixedPrecision fp16} on the GPU (or the host emulator): one DreamBooth step of sd-tiny at
 * 64² (one instance image, 8×8 latents) in fp16 with fp32 masters; the checkpoint holds the fp32 masters (not the
 * fp16-rounded weights), the loss scaler's state and the scheduler's step; the log line has the loss scale; a run
 * resumed from the checkpoint gets back the same scaler state and the exact masters.
 */
class CudaMixedPrecisionTrainerTest {
    private static final String UNET = "model.diffusion_model.";
    private static final String TOKENIZER = "../models/clip/bpe_simple_vocab_16e6.txt.gz";

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
        // a finite first step (as on the emulator when written): it counts towards growth, the scale stays
        assertEquals(new DynamicLossScaler.State(65536f, 1), scale, line.toString());
        assertEquals(65536.0, ((Number) line.get("loss_scale")).doubleValue());
        assertEquals(null, line.get("skipped"));
        assertEquals(0, trainer.skippedSteps());

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

    /**
     * An overflowing fp16 gradient inside the loop: a method whose loss is Σ x·b over one 4-element bias, with
     * x = 2 at step 1 (2·65536 is above fp16's 65504: the gradient is inf) and 0.25 after. Step 1 is skipped,
     * not a stop: the bias and its master stay, the log says so with the halved scale, and the LR schedule does
     * not advance, so step 2 runs at step 1's lr; checkpoint-2 records one scheduler step.
     */
    @Test
    void anOverflowingStepIsSkippedLoggedAndTheScheduleWaits() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Map<String, Tensor> stateDict = StateDicts.load(TestData.sdTiny("model.ckpt"));
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict,
                ModelConfigFiles.read(Path.of("../models/sd-tiny.json")), "model.ckpt", Device.CUDA, DType.F16);
        String name = UNET + "out.2.bias";
        float[] initial = stateDict.get(name).toFloatArray().clone();
        TrainingMethod.Factory factory = (c, pipeline, base) -> new SumOfBias(pipeline.model().store().handles()
                .get(name), c.learningRate());
        Map<String, Object> m = new LinkedHashMap<>(Map.of("lrScheduler", "linear", "lrWarmupSteps", 0, "maxTrainSteps", 3,
                "checkpointingSteps", 2, "outputDir", dir.resolve("skip").toString()));
        TrainConfig config = config(dir, null).with(m);
        Trainer trainer = new Trainer(factory, config, model, ClipTokenizer.load(Path.of(TOKENIZER)), stateDict);
        Parameter bias = model.store().handles().get(name);
        assertEquals(1, trainer.train(1));
        assertEquals(1, trainer.skippedSteps());
        assertEquals(new DynamicLossScaler.State(32768f, 0), trainer.lossScale());
        assertArrayEquals(initial, bias.master().to(Device.CPU, DType.F32).toFloatArray(), 0f, "master unchanged");
        assertArrayEquals(half(initial), bias.tensor().to(Device.CPU, DType.F32).toFloatArray(), 0f, "weights unchanged");

        assertEquals(3, trainer.train());
        assertEquals(1, trainer.skippedSteps());
        assertEquals(new DynamicLossScaler.State(32768f, 2), trainer.lossScale());
        List<Map<String, Object>> log = Files.readAllLines(dir.resolve("skip/log.jsonl"), StandardCharsets.UTF_8)
                .stream().map(Json::parseObject).toList();
        assertEquals(true, log.get(0).get("skipped"));
        assertEquals(null, log.get(0).get("grad_norm"));
        assertEquals(32768.0, ((Number) log.get(0).get("loss_scale")).doubleValue());
        assertEquals(null, log.get(1).get("skipped"));
        assertEquals(0.5, ((Number) log.get(1).get("grad_norm")).doubleValue(), 1e-6); // ‖(0.25, ×4)‖, unscaled
        double lr1 = ((Number) log.get(0).get("lr")).doubleValue();
        assertEquals(lr1, ((Number) log.get(1).get("lr")).doubleValue(), 0.0, "the schedule did not step on the skip");
        assertTrue(((Number) log.get(2).get("lr")).doubleValue() < lr1, "then it decays again");
        Map<String, Object> state = Json.parseObject(Files.readString(dir.resolve("skip/checkpoint-2/"
                + TrainingCheckpoint.STATE)));
        assertEquals(2L, state.get("globalStep"));
        assertEquals(1L, state.get("schedulerStep"));
        float[] after = bias.master().to(Device.CPU, DType.F32).toFloatArray();
        for (int i = 0; i < after.length; i++) {
            assertTrue(after[i] < initial[i], "the two applied steps moved the bias down (the gradient is +0.25)");
        }
    }

    /** A method training one bias b on the loss Σ x·b (x = 2 at its first call, 0.25 after). */
    private static final class SumOfBias implements TrainingMethod {
        private final Parameter bias;
        private final double lr;
        private int calls;

        SumOfBias(Parameter bias, double lr) {
            this.bias = bias;
            this.lr = lr;
            bias.trainable(true);
        }

        @Override
        public List<ParamGroup> parameterGroups() {
            return List.of(new ParamGroup(List.of(bias), lr, 0));
        }

        @Override
        public int batchesPerEpoch() {
            return 1;
        }

        @Override
        public Tensor loss(DataPosition position, TorchGenerator g) {
            float x = calls++ == 0 ? 2f : 0.25f;
            Tensor b = Cast.to(bias.tensor(), DType.F32);
            return b.mul(Tensor.full(x, bias.shape()).to(Device.CUDA, DType.F32)).sum();
        }

        @Override
        public DataPosition next(DataPosition position) {
            return position;
        }

        @Override
        public void save(Path file) {
        }
    }

    private static float[] half(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
        }
        return out;
    }

    private TrainConfig config(Path instances, String resumeFrom) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString());
        m.put("modelConfig", "../models/sd-tiny.json");
        m.put("tokenizerName", TOKENIZER);
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
