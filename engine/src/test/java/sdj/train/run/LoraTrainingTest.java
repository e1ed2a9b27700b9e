package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.AdapterRule;
import sdj.nn.LoraAdapter;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.lora.LoraFile;
import sdj.sd.lora.LoraMerge;
import sdj.tensor.Tensor;
import sdj.train.lora.DiffusersLoraFile;
import sdj.train.lora.LoraTargets;
import sdj.train.optim.ParamGroup;

/**
 * LoRA through the trainer on sd-tiny (the sd-tiny-train PNGs at 64², prior preservation, text-encoder adapters,
 * a linear schedule with warmup): only adapters change, the two groups start at the UNet and text-encoder lrs, a
 * run stopped at a checkpoint and resumed ends bit-identical, and the saved kohya file reads back (with the LoRA
 * reader) as exactly the trained adapters.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoraTrainingTest {
    private static final String TOKENIZER = "../models/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final String MODEL_CONFIG = "../models/sd-tiny.json";

    @TempDir
    static Path dir;

    private Path instances;
    private Path classes;
    private Trainer straight;
    private Map<String, float[]> uninterrupted;

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
        straight = LoraTraining.open(config("straight", null));
        assertEquals(4, straight.train());
        System.out.printf("sd-tiny LoRA, 4 optimizer steps at 64²: %.1f s%n", (System.nanoTime() - start) / 1e9);
        uninterrupted = copy(straight.trainedWeights());
    }

    private LoraConfig config(String out, String resumeFrom) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString());
        m.put("modelConfig", MODEL_CONFIG);
        m.put("tokenizerName", TOKENIZER);
        m.put("instanceDataDir", instances.toString());
        m.put("instancePrompt", "a photo of sks dog");
        m.put("withPriorPreservation", true);
        m.put("classDataDir", classes.toString());
        m.put("classPrompt", "a photo of dog");
        m.put("numClassImages", 2);
        m.put("resolution", 64);
        m.put("trainBatchSize", 1);
        m.put("trainTextEncoder", true);
        m.put("maxTrainSteps", 4);
        m.put("checkpointingSteps", 2);
        m.put("learningRate", 1e-3);
        m.put("lrScheduler", "linear");
        m.put("lrWarmupSteps", 1);
        m.put("seed", 1234L);
        m.put("outputDir", dir.resolve(out).toString());
        m.put("resumeFromCheckpoint", resumeFrom);
        TrainConfig train = TrainConfig.defaults().with(m);
        return new LoraConfig(train, 4, 2f, 0f, LoraTargets.KOHYA, 1e-2, 5e-3, AdapterRule.DownInit.KAIMING_UNIFORM,
                "kohya");
    }

    @Test
    void onlyTheAdaptersTrainAndTheBaseWeightsStayBitForBit() throws IOException {
        assertEquals(204 * 2, uninterrupted.size(), "down and up of kohya's 192 UNet and 12 text-encoder modules");
        assertTrue(uninterrupted.keySet().stream().allMatch(LoraAdapter::isAdapterWeight), uninterrupted.keySet().toString());
        long movedUps = uninterrupted.entrySet().stream().filter(e -> e.getKey().endsWith(LoraAdapter.UP))
                .filter(e -> anyNonZero(e.getValue())).count();
        assertEquals(204, movedUps, "every lora_up has left zero");
        Map<String, Tensor> base = StateDicts.load(TestData.sdTiny("model.ckpt"));
        Map<String, Tensor> now = straight.model().parameters();
        List<String> changed = new ArrayList<>();
        base.forEach((key, t) -> {
            Tensor p = now.get(key);
            if (p != null && !Arrays.equals(t.toFloatArray(), p.toFloatArray())) {
                changed.add(key);
            }
        });
        assertEquals(List.of(), changed);
    }

    @Test
    void theUNetAndTextEncoderAdaptersAreSeparateGroupsAtTheirOwnLearningRates() throws IOException {
        LoraConfig lora = config("groups", null);
        Trainer t = LoraTraining.open(lora);
        List<ParamGroup> groups = LoraMethod.factory(lora, ClassImages.Listener.NONE).open(t.config(),
                new sdj.sd.pipeline.StableDiffusion(t.model(), sdj.sd.clip.ClipTokenizer.load(Path.of(TOKENIZER))), null)
                .parameterGroups();
        assertEquals(2, groups.size());
        assertEquals(1e-2, groups.get(0).lr());
        assertEquals(5e-3, groups.get(1).lr());
        assertEquals(192 * 2, groups.get(0).params().size());
        assertEquals(12 * 2, groups.get(1).params().size());
        assertTrue(groups.get(1).params().stream().allMatch(p -> p.name().startsWith("cond_stage_model.")));
    }

    @Test
    void aRunStoppedAtACheckpointAndResumedEndsBitIdentical() throws IOException {
        Trainer first = LoraTraining.open(config("resumed", null));
        assertEquals(2, first.train(2));
        Path checkpoint = dir.resolve("resumed/checkpoint-2");
        assertEquals(checkpoint, first.lastCheckpoint());
        Trainer second = LoraTraining.open(config("resumed", checkpoint.toString()));
        assertEquals(2, second.globalStep());
        assertEquals(4, second.train());
        Map<String, Tensor> resumed = second.trainedWeights();
        assertEquals(uninterrupted.keySet(), resumed.keySet());
        List<String> differ = new ArrayList<>();
        uninterrupted.forEach((name, w) -> {
            if (!Arrays.equals(w, resumed.get(name).toFloatArray())) {
                differ.add(name);
            }
        });
        assertEquals(List.of(), differ, "tensors not bit-identical after resuming");

        LoraConfig c = config("resumed", checkpoint.toString());
        LoraConfig otherRank = new LoraConfig(c.train(), 8, c.alpha(), c.dropout(), c.targets(), c.unetLr(),
                c.textEncoderLr(), c.init(), c.saveFormat());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraTraining.open(otherRank));
        assertEquals("Checkpoint " + checkpoint + " holds rank-4 adapters but this run asks for rank 8; resume with"
                + " rank 4 (and the alpha and targets of the run that wrote it).", e.getMessage());
    }

    @Test
    void theSavedKohyaFileReadsBackAsTheTrainedAdapters() throws IOException {
        Path file = dir.resolve("straight/sks.safetensors");
        straight.saveModel(file);
        LoraFile read = LoraFile.read(file);
        assertEquals(List.of(), read.unusedKeys());
        assertEquals(204, read.modules().size());
        KohyaNames names = new KohyaNames(DiffusersNames.of(straight.model().configs()));
        for (LoraFile.Module m : read.modules()) {
            String module = names.toLdm(m.name());
            assertNotNull(module, m.name());
            assertArrayEquals(uninterrupted.get(module + "." + LoraAdapter.DOWN), m.down().toFloatArray(), m.name());
            assertArrayEquals(uninterrupted.get(module + "." + LoraAdapter.UP), m.up().toFloatArray(), m.name());
            assertEquals(2f, m.alpha(), m.name());
            assertEquals(0.5f, m.scale(), m.name());
        }
        Map<String, String> meta = SafeTensors.open(file).metadata();
        assertEquals("networks.lora", meta.get("ss_network_module"));
        assertEquals("4", meta.get("ss_network_dim"));
        assertEquals("2.0", meta.get("ss_network_alpha"));
        assertEquals("0.01", meta.get("ss_unet_lr"));
        assertEquals("0.005", meta.get("ss_text_encoder_lr"));
        assertEquals("1234", meta.get("ss_seed"));
        assertEquals("sks", meta.get("modelspec.title"));
    }

    @Test
    void theLoraReaderMergesOurKohyaAndDiffusersFilesToTheSameWeights() throws IOException {
        Path kohya = dir.resolve("straight/merge-kohya.safetensors");
        straight.saveModel(kohya);
        Path diffusers = dir.resolve("straight/" + DiffusersLoraFile.FILE_NAME);
        DiffusersNames names = DiffusersNames.of(straight.model().configs());
        DiffusersLoraFile.write(diffusers, straight.model().store().adapters(), names);
        Map<String, Tensor> base = StateDicts.load(TestData.sdTiny("model.ckpt"));
        LoraMerge.Result fromKohya = new LoraMerge(names).apply(base, LoraFile.read(kohya), 1f);
        LoraMerge.Result fromDiffusers = new LoraMerge(names).apply(base, LoraFile.read(diffusers), 1f);
        assertEquals(List.of(), fromKohya.unusedKeys());
        assertEquals(List.of(), fromDiffusers.unusedKeys());
        assertEquals(204, fromKohya.applied());
        assertEquals(204, fromDiffusers.applied());
        straight.model().store().adapters().forEach((module, a) -> {
            String key = module + ".weight";
            float[] w = base.get(key).toFloatArray();
            float[] delta = a.deltaWeight().toFloatArray();
            float[] k = fromKohya.stateDict().get(key).toFloatArray();
            float[] d = fromDiffusers.stateDict().get(key).toFloatArray();
            for (int i = 0; i < w.length; i++) {
                assertEquals(w[i] + delta[i], k[i], 1e-6f, key);
                assertEquals(k[i], d[i], 1e-6f, key);
            }
        });
    }

    @Test
    void badLoraSettingsAreOneSentenceEach() {
        LoraConfig ok = config("bad", null);
        LoraConfig bad = new LoraConfig(ok.train(), 0, -1f, 1f, LoraTargets.ATTN, -1.0, null,
                AdapterRule.DownInit.GAUSSIAN, "ckpt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::validated);
        assertEquals("rank 0 is not allowed; use 1 or more (4 to 128 are usual). alpha -1.0 is not a positive number;"
                + " use e.g. the rank (scale 1) or 1 (kohya's default). loraDropout 1.0 is outside [0, 1); use e.g. 0 or"
                + " 0.1. unetLr -1.0 is not a positive number; use e.g. 1e-4. saveFormat 'ckpt' is unknown; use kohya or"
                + " diffusers.", e.getMessage());
    }

    private static boolean anyNonZero(float[] v) {
        for (float x : v) {
            if (x != 0) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, float[]> copy(Map<String, Tensor> weights) {
        Map<String, float[]> out = new LinkedHashMap<>();
        weights.forEach((name, t) -> out.put(name, t.toFloatArray().clone()));
        return out;
    }
}
