package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.DiffusersNames;
import sdj.tensor.Tensor;
import sdj.train.cd.CrossAttentionKeys;
import sdj.train.cd.CustomDiffusionConfig;
import sdj.train.cd.DeltaFiles;
import sdj.train.cd.FreezeModel;

/**
 * End to end on sd-tiny: Custom Diffusion on the four reference PNGs (two instance, two class images) for 20 steps
 * at 64×64 (latents 8×8, to keep the test short), then the delta in both layouts holds exactly the trainer's weights.
 */
class CustomDiffusionTrainingTest {
    private static final Path TRAIN = TestData.shared().resolve("testdata/sd-tiny-train");
    private static final int KTN = 42170;

    /** 2 steps straight, and 1 + 1 with a resume from the step-1 checkpoint: bit-identical weights and token row. */
    @Test
    void resumingFromACheckpointContinuesExactly(@TempDir Path tmp) throws Exception {
        Map<String, Object> small = Map.of("maxTrainSteps", 2, "checkpointingSteps", 1, "resolution", 64);
        Trainer straight = CustomDiffusionMethod.trainer(config(tmp.resolve("a"), small), ClassImages.Listener.NONE);
        straight.train();
        Trainer first = CustomDiffusionMethod.trainer(config(tmp.resolve("b"), small), ClassImages.Listener.NONE);
        first.train(1);
        Map<String, Object> resume = new java.util.HashMap<>(small);
        resume.put("resumeFromCheckpoint", "latest");
        Trainer second = CustomDiffusionMethod.trainer(config(tmp.resolve("b"), resume), ClassImages.Listener.NONE);
        assertEquals(1, second.globalStep());
        second.train();
        Map<String, Tensor> a = straight.trainedWeights();
        Map<String, Tensor> b = second.trainedWeights();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), 0f, k);
        }
    }

    /** Two concepts from a concepts list, jointly, with two modifier tokens: both rows train, from ktn and pll. */
    @Test
    void twoConceptsTrainTwoTokenRows(@TempDir Path tmp) throws Exception {
        Path cat = Files.createDirectories(tmp.resolve("cat"));
        Path dog = Files.createDirectories(tmp.resolve("dog"));
        Files.copy(TRAIN.resolve("instance_0.png"), cat.resolve("0.png"));
        Files.copy(TRAIN.resolve("class_0.png"), dog.resolve("0.png"));
        Path list = tmp.resolve("concepts.json");
        Files.writeString(list, "[{\"instance_prompt\": \"photo of a <new1> cat\", \"instance_data_dir\": \"cat\"},"
                + " {\"instance_prompt\": \"photo of a <new2> dog\", \"instance_data_dir\": \"dog\"}]");
        CustomDiffusionConfig one = config(tmp, Map.of("maxTrainSteps", 2, "resolution", 64, "withPriorPreservation", false));
        CustomDiffusionConfig two = new CustomDiffusionConfig(one.train(), CustomDiffusionConfig.readConceptsList(list),
                List.of("<new1>", "<new2>"), List.of("ktn", "pll"), FreezeModel.CROSSATTN_KV, false, "compvis");
        Trainer trainer = CustomDiffusionMethod.trainer(two, ClassImages.Listener.NONE);
        trainer.train();
        Tensor rows = trainer.trainedWeights().get("cond_stage_model.transformer.text_model.embeddings.token_embedding.added_rows");
        assertArrayEquals(new int[] {2, 64}, rows.shape());
        float[] table = StateDicts.load(TestData.sdTiny("model.ckpt"))
                .get("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight").toFloatArray();
        float[] r = rows.toFloatArray();
        int[] from = {KTN, 47629};
        for (int i = 0; i < 2; i++) {
            float[] init = java.util.Arrays.copyOfRange(table, from[i] * 64, from[i] * 64 + 64);
            float[] now = java.util.Arrays.copyOfRange(r, i * 64, i * 64 + 64);
            double moved = maxDiff(init, now);
            assertTrue(moved > 1e-4 && moved < 0.1, "row " + i + " starts at its initializer and trains: " + moved);
        }
        Path delta = tmp.resolve("delta.ckpt");
        trainer.saveModel(delta);
        assertArrayEquals(r, StateDicts.load(delta).get("embed").toFloatArray(), 0f, "embed [2, 64] in token order");
    }

    /** The four reference PNGs as instance (2) and class (2) images, sd-tiny, seed 7, lr 1e-3, then {@code changes}. */
    private static CustomDiffusionConfig config(Path tmp, Map<String, Object> changes) throws Exception {
        Path inst = Files.createDirectories(tmp.resolve("instance"));
        Path cls = Files.createDirectories(tmp.resolve("class"));
        for (String f : List.of("instance_0.png", "instance_1.png")) {
            Files.copy(TRAIN.resolve(f), inst.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        for (String f : List.of("class_0.png", "class_1.png")) {
            Files.copy(TRAIN.resolve(f), cls.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        TrainConfig train = CustomDiffusionConfig.defaults().with(Map.ofEntries(
                Map.entry("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString()),
                Map.entry("modelConfig", "../models/sd-tiny.json"),
                Map.entry("tokenizerName", TestData.shared().resolve("data/clip/bpe_simple_vocab_16e6.txt.gz").toString()),
                Map.entry("instanceDataDir", inst.toString()), Map.entry("instancePrompt", "photo of a <new1> cat"),
                Map.entry("classDataDir", cls.toString()), Map.entry("classPrompt", "photo of a cat"),
                Map.entry("withPriorPreservation", true), Map.entry("numClassImages", 2),
                Map.entry("outputDir", tmp.resolve("out").toString()), Map.entry("seed", 7),
                Map.entry("learningRate", 1e-3))).with(changes);
        return new CustomDiffusionConfig(train, List.of(CustomDiffusionConfig.singleConcept(train)),
                List.of("<new1>"), List.of("ktn"), FreezeModel.CROSSATTN_KV, true, "both");
    }

    @Test
    void trainsTheKeyValueWeightsAndTheTokenRowAndSavesThemExactly(@TempDir Path tmp) throws Exception {
        Path inst = Files.createDirectories(tmp.resolve("instance"));
        Path cls = Files.createDirectories(tmp.resolve("class"));
        for (String f : List.of("instance_0.png", "instance_1.png")) {
            Files.copy(TRAIN.resolve(f), inst.resolve(f));
        }
        for (String f : List.of("class_0.png", "class_1.png")) {
            Files.copy(TRAIN.resolve(f), cls.resolve(f));
        }
        Path out = tmp.resolve("out");
        TrainConfig train = CustomDiffusionConfig.defaults().with(Map.ofEntries(
                Map.entry("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString()),
                Map.entry("modelConfig", "../models/sd-tiny.json"),
                Map.entry("tokenizerName", TestData.shared().resolve("data/clip/bpe_simple_vocab_16e6.txt.gz").toString()),
                Map.entry("instanceDataDir", inst.toString()), Map.entry("instancePrompt", "photo of a <new1> cat"),
                Map.entry("classDataDir", cls.toString()), Map.entry("classPrompt", "photo of a cat"),
                Map.entry("withPriorPreservation", true), Map.entry("numClassImages", 2),
                Map.entry("outputDir", out.toString()), Map.entry("seed", 7), Map.entry("resolution", 64),
                Map.entry("maxTrainSteps", 20), Map.entry("checkpointingSteps", 1000), Map.entry("learningRate", 1e-3)));
        CustomDiffusionConfig cd = new CustomDiffusionConfig(train, List.of(CustomDiffusionConfig.singleConcept(train)),
                List.of("<new1>"), List.of("ktn"), FreezeModel.CROSSATTN_KV, true, "both");
        Map<String, Tensor> base = StateDicts.load(TestData.sdTiny("model.ckpt"));
        Trainer trainer = CustomDiffusionMethod.trainer(cd, ClassImages.Listener.NONE);
        assertEquals(2e-3, trainer.config().effectiveLearningRate(), 1e-15, "scale-lr on: lr × batch 2");
        assertEquals(20, trainer.train());
        Path delta = out.resolve(DeltaFiles.COMPVIS_FILE);
        trainer.saveModel(delta);

        Map<String, Tensor> trained = trainer.trainedWeights();
        assertEquals(33, trained.size(), "32 attn2 k/v weights + the added token rows");
        Map<String, Tensor> written = StateDicts.load(delta);
        Map<String, Tensor> reference = StateDicts.load(TRAIN.resolve("delta.ckpt"));
        assertEquals(List.copyOf(reference.keySet()), List.copyOf(written.keySet()), "adobe's keys, in its order");
        Tensor rows = trained.get("cond_stage_model.transformer.text_model.embeddings.token_embedding.added_rows");
        assertArrayEquals(rows.toFloatArray(), written.get("embed").toFloatArray(), 0f);
        assertArrayEquals(new int[] {1, 64}, written.get("embed").shape());
        float[] ktnRow = java.util.Arrays.copyOfRange(base.get(
                "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight").toFloatArray(), KTN * 64,
                KTN * 64 + 64);
        assertTrue(maxDiff(ktnRow, rows.toFloatArray()) > 1e-4, "the <new1> row moved away from ktn's");
        SafeTensors diffusers = SafeTensors.open(out.resolve(DeltaFiles.DIFFUSERS_FILE));
        CrossAttentionKeys keys = new CrossAttentionKeys(DiffusersNames.of(trainer.model().configs()));
        for (String key : reference.keySet()) {
            if (key.equals("embed")) {
                continue;
            }
            float[] w = trained.get(key).toFloatArray();
            assertArrayEquals(w, written.get(key).toFloatArray(), 0f, key);
            assertArrayEquals(w, diffusers.tensors().get(keys.toProcessorKey(key)).toFloatArray(), 0f, key);
            assertTrue(maxDiff(w, base.get(key).toFloatArray()) > 1e-4, key + " trained");
        }
        assertArrayEquals(rows.toFloatArray(), SafeTensors.open(out.resolve("<new1>.safetensors")).tensors().get("<new1>")
                .toFloatArray(), 0f);
        String q = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_q.weight";
        assertArrayEquals(base.get(q).toFloatArray(), trainer.model().store().parameters().get(q).toFloatArray(), 0f,
                "to_q is frozen in crossattn-kv");
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
