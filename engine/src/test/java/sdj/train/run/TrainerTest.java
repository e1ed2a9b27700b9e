package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * The trainer on sd-tiny (the four sd-tiny-train PNGs as instance and class images at 64², prior
 * preservation, min-SNR, offset noise, a linear schedule with warmup, UNet fully trained): an interrupted
 * and resumed run, and a run whose checkpoint write crashed half way, end with weights bit-identical to an
 * uninterrupted run; checkpoints are pruned, a NaN stops the run, and the exported model reloads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainerTest {
    private static final String TOKENIZER = "../models/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final String MODEL_CONFIG = "../models/sd-tiny.json";

    @TempDir
    static Path dir;

    private Path instances;
    private Path classes;
    /** The trainable weights after an uninterrupted 4-step run, and that run's trainer. */
    private Map<String, float[]> uninterrupted;
    private Trainer straight;
    private final List<Progress> progress = new ArrayList<>();

    @BeforeAll
    void runUninterrupted() throws IOException {
        Path train = TestData.shared().resolve("testdata/sd-tiny-train");
        instances = Files.createDirectories(dir.resolve("instances"));
        classes = Files.createDirectories(dir.resolve("classes"));
        for (int i = 0; i < 2; i++) {
            Files.copy(train.resolve("instance_" + i + ".png"), instances.resolve("instance_" + i + ".png"));
            Files.copy(train.resolve("class_" + i + ".png"), classes.resolve("class_" + i + ".png"));
        }
        long start = System.nanoTime();
        straight = Trainer.open(config("straight", null));
        straight.onProgress(progress::add);
        assertEquals(4, straight.train());
        System.out.printf("sd-tiny, 4 optimizer steps at 64² with 1+1 images: %.1f s%n", (System.nanoTime() - start) / 1e9);
        uninterrupted = copy(straight.trainedWeights());
    }

    private TrainConfig config(String out, String resumeFrom) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString());
        m.put("modelConfig", MODEL_CONFIG);
        m.put("tokenizerName", TOKENIZER);
        m.put("instanceDataDir", instances.toString());
        m.put("instancePrompt", "a photo of sks dog");
        m.put("withPriorPreservation", true);
        m.put("classDataDir", classes.toString());
        m.put("classPrompt", "a photo of dog");
        m.put("numClassImages", 2); // the two copied: none to generate
        m.put("resolution", 64);
        m.put("trainBatchSize", 1);
        m.put("maxTrainSteps", 4);
        m.put("checkpointingSteps", 2);
        m.put("checkpointsTotalLimit", 1);
        m.put("learningRate", 1e-3);
        m.put("lrScheduler", "linear");
        m.put("lrWarmupSteps", 1);
        m.put("snrGamma", 5.0);
        m.put("noiseOffset", 0.1);
        m.put("seed", 1234L);
        m.put("outputDir", dir.resolve(out).toString());
        m.put("resumeFromCheckpoint", resumeFrom);
        return TrainConfig.defaults().with(m);
    }

    @Test
    void trainingChangesTheUNetAndNothingElse() throws IOException {
        Map<String, Tensor> base = StateDicts.load(TestData.sdTiny("model.ckpt"));
        int changed = 0;
        for (Map.Entry<String, float[]> e : uninterrupted.entrySet()) {
            assertTrue(e.getKey().startsWith("model.diffusion_model."), e.getKey());
            changed += Arrays.equals(e.getValue(), base.get(e.getKey()).toFloatArray()) ? 0 : 1;
        }
        // every UNet tensor moves (lr 1e-3 after one warmup step with lr 0); the VAE and CLIP stay frozen
        assertEquals(uninterrupted.size(), changed);
        Map<String, Tensor> now = straight.model().parameters();
        for (String frozen : List.of("first_stage_model.encoder.conv_in.weight",
                "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight")) {
            assertArrayEquals(base.get(frozen).toFloatArray(), now.get(frozen).toFloatArray(), frozen);
        }
    }

    @Test
    void progressReportsEachStepWithTheScheduledLrAndASmoothedLoss() throws IOException {
        List<Map<String, Object>> log = logWithoutTimes(dir.resolve("straight"));
        // linear with 1 warmup step over 4: λ(s) = 0, 1, 2/3, 1/3 for updates 1..4
        double[] lr = {0, 1e-3, 1e-3 * 2 / 3, 1e-3 / 3};
        double smoothed = Double.NaN;
        assertEquals(4, progress.size());
        for (int i = 0; i < 4; i++) {
            Progress p = progress.get(i);
            double loss = (Double) log.get(i).get("loss");
            smoothed = i == 0 ? loss : 0.9 * smoothed + 0.1 * loss;
            assertEquals(i + 1, p.step());
            assertEquals(4, p.totalSteps());
            assertEquals(lr[i], p.lr(), 1e-18);
            assertEquals(lr[i], (Double) log.get(i).get("lr"), 1e-18);
            assertEquals(loss, p.loss());
            assertEquals(smoothed, p.smoothedLoss(), 1e-15);
            assertTrue(p.secondsPerStep() > 0 && (Double) log.get(i).get("grad_norm") > 0, p.toString());
        }
    }

    @Test
    void cachedLatentsEncodeEachImageOnceAndTrainTheSameWeights() throws IOException {
        Map<String, Object> m = Map.of("centerCrop", true, "gradientAccumulationSteps", 2, "maxTrainSteps", 2,
                "checkpointingSteps", 100);
        Trainer plain = new Trainer(config("uncached", null).with(m), model(), tokenizer(), null);
        Trainer cached = new Trainer(config("cached", null).with(m).with(Map.of("cacheLatents", true)), model(),
                tokenizer(), null);
        plain.train();
        cached.train();
        assertEquals(4, plain.vaeEncodes()); // 2 steps × 2 micro-batches
        assertEquals(2, cached.vaeEncodes()); // 2 items (instance i with class i), batch 1
        assertSameWeights(copy(plain.trainedWeights()), cached.trainedWeights());
    }

    @Test
    void withTrainTextEncoderTheClipWeightsLearnAndResumeNeedsTheSameSetting() throws IOException {
        Map<String, Object> m = Map.of("trainTextEncoder", true, "lrScheduler", "constant", "maxTrainSteps", 1,
                "checkpointingSteps", 1);
        Trainer t = Trainer.open(config("text-encoder", null).with(m));
        t.train();
        Map<String, Tensor> base = StateDicts.load(TestData.sdTiny("model.ckpt"));
        Map<String, Tensor> trained = t.trainedWeights();
        String ln = "cond_stage_model.transformer.text_model.final_layer_norm.weight";
        String q = "cond_stage_model.transformer.text_model.encoder.layers.1.self_attn.q_proj.weight";
        for (String name : List.of(ln, q, "model.diffusion_model.out.2.weight")) {
            assertFalse(Arrays.equals(base.get(name).toFloatArray(), trained.get(name).toFloatArray()), name);
        }
        long clipTensors = trained.keySet().stream().filter(n -> n.startsWith("cond_stage_model.")).count();
        assertEquals(trained.size(), TrainingCheckpoint.load(dir.resolve("text-encoder/checkpoint-1")).weights().size());
        assertEquals(uninterrupted.size() + clipTensors, trained.size());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.open(config("text-encoder", "latest").with(Map.of("lrScheduler", "constant"))));
        assertEquals("Checkpoint " + dir.resolve("text-encoder/checkpoint-1") + " holds " + trained.size()
                + " trained tensors but this run trains " + uninterrupted.size() + " (the method, its targets and"
                + " trainTextEncoder must match);"
                + " resume with the settings of the run that wrote it.", e.getMessage());
    }

    @Test
    void anOutputFolderThatCannotBeMadeIsRefusedBeforeTraining() throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.open(config("a-file/out", null)));
        assertTrue(e.getMessage().startsWith("Output folder " + file.resolve("out") + " cannot be created"), e.getMessage());
        assertTrue(e.getMessage().endsWith("; choose a folder you can write to."), e.getMessage());
    }

    @Test
    void tooLittleFreeSpaceForACheckpointIsRefused() {
        Trainer.checkSpace(dir, 3L << 20, 3L << 20);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.checkSpace(dir, (3L << 20) - 1, (40L << 20) + 5));
        assertEquals("Output folder " + dir + " has 3 MB free but a checkpoint of this run needs about 41 MB;"
                + " free some space or choose another folder.", e.getMessage());
    }

    private static StableDiffusionModel model() throws IOException {
        return StableDiffusionModel.fromStateDict(StateDicts.load(TestData.sdTiny("model.ckpt")),
                ModelConfigFiles.read(Path.of(MODEL_CONFIG)), "model.ckpt");
    }

    private static ClipTokenizer tokenizer() throws IOException {
        return ClipTokenizer.load(Path.of(TOKENIZER));
    }

    @Test
    void aRunStoppedAfterTwoStepsAndResumedEndsBitIdentical() throws IOException {
        Trainer first = Trainer.open(config("resumed", null));
        assertEquals(2, first.train(2));
        Path checkpoint = dir.resolve("resumed/checkpoint-2");
        assertEquals(checkpoint, first.lastCheckpoint());

        Trainer second = Trainer.open(config("resumed", checkpoint.toString()));
        assertEquals(2, second.globalStep());
        assertEquals(4, second.train());
        assertSameWeights(uninterrupted, second.trainedWeights());
        // the log holds steps 1..4 with the uninterrupted run's losses, learning rates and norms
        assertEquals(logWithoutTimes(dir.resolve("straight")), logWithoutTimes(dir.resolve("resumed")));
    }

    @Test
    void aCrashInsideACheckpointWriteLeavesNoHalfCheckpointAndLatestResumesExactly() throws IOException {
        Trainer crashing = Trainer.open(config("crashed", null));
        int[] weightFiles = {0};
        crashing.checkpointWriteHook(file -> {
            if (file.equals(TrainingCheckpoint.WEIGHTS) && ++weightFiles[0] == 2) {
                throw new IOException("injected crash after the weights of checkpoint-4");
            }
        });
        IOException crash = assertThrows(IOException.class, crashing::train);
        assertTrue(crash.getMessage().startsWith("injected crash"), crash.getMessage());
        Path out = dir.resolve("crashed");
        assertEquals(List.of("checkpoint-2", "log.jsonl"), names(out));

        Trainer resumed = Trainer.open(config("crashed", "latest"));
        assertEquals(out.resolve("checkpoint-2"), resumed.lastCheckpoint());
        assertEquals(2, resumed.globalStep());
        assertEquals(4, resumed.train());
        assertSameWeights(uninterrupted, resumed.trainedWeights());
        // checkpointsTotalLimit 1: checkpoint-4 replaced checkpoint-2
        assertEquals(List.of("checkpoint-4", "log.jsonl"), names(out));
        assertEquals(List.of("checkpoint-4", "log.jsonl"), names(dir.resolve("straight")));
    }

    @Test
    void aChildJvmKilledWithSigkillAfterACheckpointResumesFromLatestBitIdentical() throws Exception {
        Path out = dir.resolve("sigkill");
        Map<String, Object> everyStep = Map.of("checkpointingSteps", 1);
        Path configFile = Files.createDirectories(dir.resolve("sigkill-config")).resolve("config.json");
        TrainConfigJson.write(config("sigkill", null).with(everyStep), configFile);
        Path flags = Path.of("..", "jvm.flags").toAbsolutePath().normalize(); // tests run in engine/
        assertTrue(Files.isRegularFile(flags), flags + " (the JVM flags every sdj process runs with)");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(), "@" + flags, "-Xmx2g",
                "-Xss4m", "-cp", System.getProperty("java.class.path"), TrainerChild.class.getName(), configFile.toString());
        long start = System.nanoTime();
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("sigkill-config/child.log").toFile()).start();
        List<Path> checkpoints = List.of();
        while (checkpoints.isEmpty() && child.isAlive()) {
            Thread.sleep(5);
            checkpoints = CheckpointFolders.list(out);
        }
        if (!child.isAlive()) {
            fail("the child ended (exit " + child.exitValue() + ") before its first checkpoint: "
                    + Files.readString(dir.resolve("sigkill-config/child.log")));
        }
        long killedAfter = CheckpointFolders.step(checkpoints.get(checkpoints.size() - 1));
        double childCpu = child.info().totalCpuDuration().map(d -> d.toMillis() / 1e3).orElse(Double.NaN);
        child.destroyForcibly(); // SIGKILL: no shutdown hooks, files as the kill finds them
        assertEquals(137, child.waitFor(), "128 + SIGKILL");
        double childSeconds = (System.nanoTime() - start) / 1e9;
        assertTrue(killedAfter < 4, "killed before the end, after checkpoint-" + killedAfter);

        Trainer resumed = Trainer.open(config("sigkill", "latest").with(everyStep));
        long from = resumed.globalStep();
        assertTrue(from >= killedAfter && from < 4, "resumed from step " + from);
        assertEquals(4, resumed.train());
        assertSameWeights(uninterrupted, resumed.trainedWeights());
        assertEquals(logWithoutTimes(dir.resolve("straight")), logWithoutTimes(out));
        System.out.printf("kill -9: child killed after checkpoint-%d at %.1f s (%.1f s of CPU), resumed from step %d,"
                + " total %.1f s%n", killedAfter, childSeconds, childCpu, from, (System.nanoTime() - start) / 1e9);
    }

    @Test
    void adamw8bitCheckpointsItsByteCodesAndAResumedRunEndsBitIdentical() throws IOException {
        Map<String, Object> eightBit = Map.of("use8bitAdam", true, "checkpointsTotalLimit", 2);
        Trainer straight8 = Trainer.open(config("adamw8bit", null).with(eightBit));
        assertEquals(4, straight8.train());
        Map<String, float[]> uninterrupted8 = copy(straight8.trainedWeights());
        // 8-bit moments move the weights differently from fp32 AdamW's
        String conv = "model.diffusion_model.input_blocks.1.0.in_layers.2.weight"; // 32·32·9 = 9216 ≥ 4096: 8-bit
        assertFalse(Arrays.equals(uninterrupted.get(conv), uninterrupted8.get(conv)), conv);

        Path checkpoint = dir.resolve("adamw8bit/checkpoint-2");
        TrainingCheckpoint saved = TrainingCheckpoint.load(checkpoint);
        assertEquals("adamw8bit", saved.optimizer());
        assertEquals(DType.U8, saved.quantized().get("state1/" + conv).dtype());
        assertArrayEquals(new int[] {9216}, saved.quantized().get("state2/" + conv).shape());
        assertArrayEquals(new int[] {9216 / 256}, saved.quantized().get("absmax1/" + conv).shape());
        assertEquals(2L, saved.optimizerSteps().get(conv));
        String bias = "model.diffusion_model.out.2.bias"; // 4 elements: fp32 moments, as bitsandbytes keeps them
        assertFalse(saved.quantized().containsKey("state1/" + bias));
        assertArrayEquals(new int[] {4}, saved.expAvg().get(bias).shape());

        Trainer resumed = Trainer.open(config("adamw8bit-resumed", checkpoint.toString()).with(eightBit));
        assertEquals(2, resumed.globalStep());
        assertEquals(4, resumed.train());
        assertSameWeights(uninterrupted8, resumed.trainedWeights());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.open(config("adamw8bit-as-fp32", checkpoint.toString())));
        assertEquals("Checkpoint " + checkpoint + " holds the state of the optimizer adamw8bit but this run uses adamw;"
                + " resume with the use8bitAdam setting of the run that wrote it.", e.getMessage());
    }

    @Test
    void aPartialFolderOfAKilledRunIsIgnoredAndRemoved() throws IOException {
        Path out = dir.resolve("killed");
        Files.createDirectories(out.resolve(".checkpoint-9.partial"));
        Files.writeString(out.resolve(".checkpoint-9.partial/" + TrainingCheckpoint.WEIGHTS), "cut short");
        Files.createDirectories(out.resolve("checkpoint-7")); // no state file: not a complete checkpoint
        assertEquals(null, CheckpointFolders.resolve(out, "latest"));
        Trainer t = Trainer.open(config("killed", "latest")); // none complete: a fresh run, as diffusers
        assertEquals(0, t.globalStep());
        assertFalse(Files.exists(out.resolve(".checkpoint-9.partial")));
    }

    @Test
    void aNaNLossStopsTheRunNamingTheStepAndKeepsTheLastGoodCheckpoint() throws IOException {
        Trainer t = Trainer.open(config("nan", null));
        t.train(2);
        Tensor bias = t.model().store().handles().get("model.diffusion_model.out.2.bias").tensor();
        float[] poisoned = bias.toFloatArray().clone();
        poisoned[0] = Float.NaN;
        t.model().store().handles().get("model.diffusion_model.out.2.bias").set(Tensor.of(poisoned, bias.shape()));
        TrainingStoppedException e = assertThrows(TrainingStoppedException.class, t::train);
        assertEquals(3, e.step());
        assertTrue(e.getMessage().startsWith("Training stopped at step 3: the loss is NaN; the weights are those of step 2"
                + " and the last good checkpoint is " + dir.resolve("nan/checkpoint-2")), e.getMessage());
        assertEquals(List.of("checkpoint-2", "log.jsonl"), names(dir.resolve("nan")));
        assertEquals(2, Files.readAllLines(dir.resolve("nan/log.jsonl")).size());
    }

    @Test
    void theSavedModelHasTheBaseKeysAndReloadsWithTheTrainedWeights() throws IOException {
        Path file = dir.resolve("model.safetensors");
        straight.saveModel(file);
        Map<String, Tensor> base = StateDicts.load(TestData.sdTiny("model.ckpt"));
        Map<String, Tensor> saved = StateDicts.load(file);
        assertEquals(List.copyOf(base.keySet()).stream().sorted().toList(), saved.keySet().stream().sorted().toList());
        for (String key : List.of("alphas_cumprod", "first_stage_model.decoder.conv_out.weight")) {
            assertArrayEquals(base.get(key).toFloatArray(), saved.get(key).toFloatArray(), key);
        }
        // not SD v1's sizes: the file names its own, so `sdj txt2img --ckpt` needs no --config
        assertEquals(ModelConfigJson.metadata(ModelConfigFiles.read(Path.of(MODEL_CONFIG))), ModelConfigJson.metadata(
                ModelConfigFiles.fromMetadata(SafeTensors.open(file).metadata(), file.toString())));
        StableDiffusionModel reloaded = StableDiffusionModel.fromStateDict(saved,
                ModelConfigFiles.read(Path.of(MODEL_CONFIG)), file.toString());
        Map<String, Tensor> params = reloaded.parameters();
        Map<String, float[]> trained = new LinkedHashMap<>();
        uninterrupted.keySet().forEach(name -> trained.put(name, params.get(name).toFloatArray()));
        assertSameWeights(uninterrupted, toTensors(trained));
    }

    private static void assertSameWeights(Map<String, float[]> expected, Map<String, Tensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        List<String> differ = new ArrayList<>();
        expected.forEach((name, w) -> {
            if (!Arrays.equals(w, actual.get(name).toFloatArray())) {
                differ.add(name);
            }
        });
        assertTrue(differ.isEmpty(), differ.size() + " of " + expected.size() + " tensors are not bit-identical, e.g. "
                + differ.subList(0, Math.min(3, differ.size())));
    }

    private static Map<String, float[]> copy(Map<String, Tensor> weights) {
        Map<String, float[]> out = new LinkedHashMap<>();
        weights.forEach((name, t) -> out.put(name, t.toFloatArray().clone()));
        return out;
    }

    private static Map<String, Tensor> toTensors(Map<String, float[]> weights) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights.forEach((name, w) -> out.put(name, Tensor.of(w, w.length)));
        return out;
    }

    /** log.jsonl without the wall times. */
    private static List<Map<String, Object>> logWithoutTimes(Path out) throws IOException {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve(TrainLog.FILE))) {
            Map<String, Object> m = Json.parseObject(line);
            assertNotNull(m.remove("seconds"));
            lines.add(m);
        }
        assertEquals(4, lines.size());
        return lines;
    }

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
