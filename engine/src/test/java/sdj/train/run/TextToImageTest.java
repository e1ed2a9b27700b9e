package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.TestData;
import sdj.random.TorchGenerator;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * {@code sdj train text-to-image}: images captioned by metadata.jsonl, caption dropout, and a UNet and text encoder
 * trained from LDM's initialisation with a VAE from a file.
 */
class TextToImageTest {
    private static final String TOKENIZER = "../models/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final String SHAPES = "../models/sdj-shapes.json";
    private static final String TINY = "../models/sd-tiny.json";

    @TempDir
    Path dir;

    @Test
    void zeroModulesAreZeroAndTheOtherWeightsAreNot() throws IOException {
        Map<String, Tensor> init = ScratchModel.initial(ModelConfigFiles.read(Path.of(SHAPES)), 7);
        int resBlocks = 0;
        int projOuts = 0;
        int finalConv = 0;
        for (Map.Entry<String, Tensor> e : init.entrySet()) {
            String name = e.getKey();
            boolean zero = allZero(e.getValue());
            if (ScratchModel.zeroInitialised(name)) {
                assertTrue(zero, name + " is one of LDM's zero_module layers");
                resBlocks += name.contains(".out_layers.3.") ? 1 : 0;
                projOuts += name.contains(".proj_out.") ? 1 : 0;
                finalConv += name.startsWith("model.diffusion_model.out.2.") ? 1 : 0;
            } else if (name.endsWith(".weight")) {
                assertFalse(zero, name + " is randomly initialised");
            }
        }
        // sdj-shapes: 1 res block × 3 levels down + 3 × (1+1) up + 2 in the middle = 11 ResBlocks; attention at every
        // level: 3 down, 6 up, 1 middle = 10 SpatialTransformers; weight and bias each
        assertEquals(2 * 11, resBlocks);
        assertEquals(2 * 10, projOuts);
        assertEquals(2, finalConv);
        assertFalse(ScratchModel.zeroInitialised("first_stage_model.encoder.mid.attn_1.proj_out.weight"));
        assertEquals(0.01, std(init.get(ScratchModel.POSITION_EMBEDDING)), 0.001);
        assertEquals(0.02, std(init.get("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight")),
                0.0005);
    }

    @Test
    void captionDropoutEmptiesCaptionsAtItsRateReproducibly() {
        List<String> prompts = Collections.nCopies(20_000, "a red circle on a blue background");
        List<String> a = MicroBatch.dropCaptions(prompts, 0.1, new TorchGenerator(42));
        List<String> b = MicroBatch.dropCaptions(prompts, 0.1, new TorchGenerator(42));
        assertEquals(a, b);
        long empty = a.stream().filter(String::isEmpty).count();
        assertEquals(0.1, empty / 20_000.0, 0.006); // σ = √(0.1·0.9/20000) ≈ 0.0021: about 3σ
        assertTrue(a.stream().allMatch(p -> p.isEmpty() || p.equals(prompts.get(0))));
        TorchGenerator g = new TorchGenerator(42);
        assertEquals(prompts, MicroBatch.dropCaptions(prompts, 0, g));
        assertEquals(new TorchGenerator(42).random(), g.random(), "no dropout draws nothing");
    }

    @Test
    void withFixedCaptionsAndNoDropoutItTrainsAsDreamBooth() throws IOException {
        String prompt = "a photo of sks dog";
        Path captioned = images(dir.resolve("captioned"), prompt, prompt);
        Path plain = images(dir.resolve("plain"), null, null);
        assertFalse(Files.exists(plain.resolve("metadata.jsonl")));
        Map<String, Object> common = new LinkedHashMap<>();
        common.put("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString());
        common.put("modelConfig", TINY);
        common.put("tokenizerName", TOKENIZER);
        common.put("resolution", 64);
        common.put("trainBatchSize", 2);
        common.put("maxTrainSteps", 2);
        common.put("learningRate", 1e-3);
        common.put("trainTextEncoder", true);
        common.put("seed", 5L);
        Map<String, Object> t2i = new LinkedHashMap<>(common);
        t2i.put("trainDataDir", captioned.toString());
        t2i.put("outputDir", dir.resolve("t2i").toString());
        Map<String, Object> db = new LinkedHashMap<>(common);
        db.put("instanceDataDir", plain.toString());
        db.put("instancePrompt", prompt);
        db.put("outputDir", dir.resolve("db").toString());
        Trainer a = Trainer.open(TrainConfig.defaults().with(t2i));
        a.train();
        Trainer b = Trainer.open(TrainConfig.defaults().with(db));
        b.train();
        Map<String, Tensor> wa = a.trainedWeights();
        Map<String, Tensor> wb = b.trainedWeights();
        assertEquals(wb.keySet(), wa.keySet());
        assertTrue(wa.keySet().stream().anyMatch(k -> k.startsWith("cond_stage_model.")));
        wa.forEach((k, v) -> assertArrayEquals(wb.get(k).toFloatArray(), v.toFloatArray(), k));
    }

    @Test
    void fromScratchTheLossFallsAndTheResultCarriesItsConfig() throws IOException {
        Path data = images(dir.resolve("shapes"), "a red circle", "a blue square");
        Path vae = vaeFile(dir.resolve("vae.safetensors"), 0.5f);
        TrainConfig config = scratch(data, vae, "run", 30, 0.0).with(Map.of("trainBatchSize", 2));
        Trainer trainer = Trainer.open(config);
        List<Double> losses = new ArrayList<>();
        trainer.onProgress(p -> losses.add(p.loss()));
        trainer.train();
        assertEquals(0.5f, trainer.model().configs().scaleFactor(), "the vae file's scale_factor wins over 0.18215");
        double first = losses.subList(0, 10).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = losses.subList(20, 30).stream().mapToDouble(d -> d).average().orElseThrow();
        System.out.printf("from scratch, sdj-shapes at 64², 30 steps: mean loss %.4f (steps 1-10) -> %.4f (21-30)%n",
                first, last);
        assertTrue(last < 0.75 * first, "mean loss " + first + " -> " + last);

        Path model = dir.resolve("run/model.safetensors");
        trainer.saveModel(model);
        SafeTensors file = SafeTensors.open(model);
        ModelConfigs read = ModelConfigFiles.fromMetadata(file.metadata(), model.toString());
        ModelConfigs shapes = ModelConfigFiles.read(Path.of(SHAPES));
        assertEquals(0.5f, read.scaleFactor());
        assertEquals(shapes.clip(), read.clip());
        assertArrayEquals(shapes.unet().channelMult(), read.unet().channelMult());
        assertEquals(shapes.unet().contextDim(), read.unet().contextDim());
        assertArrayEquals(shapes.vae().chMult(), read.vae().chMult());
        Map<String, Tensor> saved = file.tensors();
        assertEquals(trainer.model().parameters().keySet(), saved.keySet());
        assertTrue(saved.values().stream().allMatch(t -> t.dtype() == DType.F32));
        String unetOut = "model.diffusion_model.out.2.weight";
        assertArrayEquals(trainer.model().parameters().get(unetOut).toFloatArray(), saved.get(unetOut).toFloatArray());
        assertFalse(allZero(saved.get(unetOut)), "the zero-initialised final conv trained");
        String vaeKey = "first_stage_model.decoder.conv_out.weight";
        assertArrayEquals(SafeTensors.open(vae).tensors().get(vaeKey).toFloatArray(), saved.get(vaeKey).toFloatArray());
    }

    @Test
    void aResumedScratchRunWithDropoutAndEmaEndsBitIdentical() throws IOException {
        Path data = images(dir.resolve("shapes"), "a red circle", "a blue square");
        Path vae = vaeFile(dir.resolve("vae.safetensors"), 0.5f);
        Map<String, Object> ema = Map.of("useEma", true, "emaDecay", 0.99);
        Trainer straight = Trainer.open(scratch(data, vae, "straight", 4, 0.5).with(ema));
        straight.train();
        Trainer first = Trainer.open(scratch(data, vae, "resumed", 4, 0.5).with(ema));
        first.train(2);
        assertTrue(Files.isRegularFile(dir.resolve("resumed/checkpoint-2").resolve(TrainingCheckpoint.EMA)));
        Trainer resumed = Trainer.open(scratch(data, vae, "resumed", 4, 0.5).with(ema).with(Map.of(
                "resumeFromCheckpoint", "latest")));
        assertEquals(2, resumed.globalStep());
        resumed.train();
        Map<String, Tensor> want = straight.trainedWeights();
        resumed.trainedWeights().forEach((k, v) -> assertArrayEquals(want.get(k).toFloatArray(), v.toFloatArray(), k));
        Path a = dir.resolve("straight/model.safetensors");
        Path b = dir.resolve("resumed/model.safetensors");
        straight.saveModel(a);
        resumed.saveModel(b);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the EMA result of the resumed run");
        // the result is the EMA, not the last weights: after 4 steps they differ
        String key = "model.diffusion_model.out.2.weight";
        assertFalse(java.util.Arrays.equals(want.get(key).toFloatArray(),
                SafeTensors.open(a).tensors().get(key).toFloatArray()));
    }

    @Test
    void emaDecayFollowsDiffusersAndItsFirstStepCopiesTheWeights() throws IOException {
        assertEquals(0.0, EmaWeights.decay(0.9999, 1));
        assertEquals(2.0 / 11, EmaWeights.decay(0.9999, 2));
        assertEquals(11.0 / 20, EmaWeights.decay(0.9999, 11));
        assertEquals(0.5, EmaWeights.decay(0.5, 100));
        Path data = images(dir.resolve("shapes"), "a red circle", "a blue square");
        Path vae = vaeFile(dir.resolve("vae.safetensors"), 0.5f);
        Trainer one = Trainer.open(scratch(data, vae, "one", 1, 0.0).with(Map.of("useEma", true)));
        one.train();
        Path model = dir.resolve("one/model.safetensors");
        one.saveModel(model);
        Map<String, Tensor> saved = SafeTensors.open(model).tensors();
        // decay 0 at the first step: the EMA equals the trained weights
        one.trainedWeights().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), saved.get(k).toFloatArray(), k));
    }

    private TrainConfig scratch(Path data, Path vae, String out, int steps, double dropout) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vae", vae.toString());
        m.put("modelConfig", SHAPES);
        m.put("tokenizerName", TOKENIZER);
        m.put("trainDataDir", data.toString());
        m.put("resolution", 64);
        m.put("centerCrop", true);
        m.put("trainBatchSize", 4);
        m.put("maxTrainSteps", steps);
        m.put("checkpointingSteps", 2);
        m.put("learningRate", 1e-3);
        m.put("trainTextEncoder", true);
        m.put("captionDropoutRate", dropout);
        m.put("seed", 11L);
        m.put("outputDir", dir.resolve(out).toString());
        return TrainConfig.defaults().with(m);
    }

    /** The four sd-tiny-train PNGs; with captions, a metadata.jsonl giving the instances one and the classes other. */
    private static Path images(Path folder, String instances, String classes) throws IOException {
        Path train = TestData.shared().resolve("testdata/sd-tiny-train");
        Files.createDirectories(folder);
        StringBuilder metadata = new StringBuilder();
        for (String kind : List.of("instance", "class")) {
            for (int i = 0; i < 2; i++) {
                String name = kind + "_" + i + ".png";
                Files.copy(train.resolve(name), folder.resolve(name));
                String caption = kind.equals("instance") ? instances : classes;
                metadata.append("{\"file_name\": \"").append(name).append("\", \"text\": \"").append(caption)
                        .append("\"}\n");
            }
        }
        if (instances != null) { // without: DreamBooth's folder, the same files captioned by its prompt
            Files.writeString(folder.resolve("metadata.jsonl"), metadata);
        }
        return folder;
    }

    /** A VAE file as 'sdj train vae' writes one: sdj-shapes' VAE (seeded random) and a scale_factor. */
    private static Path vaeFile(Path file, float scale) throws IOException {
        Map<String, Tensor> vae = new LinkedHashMap<>();
        StableDiffusionModel.random(ModelConfigFiles.read(Path.of(SHAPES)), 99).parameters().forEach((k, v) -> {
            if (k.startsWith("first_stage_model.")) {
                vae.put(k, v);
            }
        });
        SafeTensors.write(file, vae, Map.of("scale_factor", Float.toString(scale)));
        return file;
    }

    private static boolean allZero(Tensor t) {
        for (float v : t.toFloatArray()) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    private static double std(Tensor t) {
        float[] v = t.toFloatArray();
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }
}
