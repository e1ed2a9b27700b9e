package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.image.Images;
import sdj.io.TestData;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.tensor.Tensor;

/**
 * The trainer's own sampling on sd-tiny at 64²: missing class images are generated before the first
 * step and trained on; validation images appear at the validation steps under
 * validation/step-{N}-{i}.png, show the weights of that step with the run's seed, and leave the trained
 * weights bit-identical to a run without validation.
 */
class TrainerSamplingTest {
    private static final String TOKENIZER = "../models/clip/bpe_simple_vocab_16e6.txt.gz";

    @TempDir
    Path dir;

    private TrainConfig config(String out, Map<String, Object> extra) throws IOException {
        Path train = TestData.shared().resolve("testdata/sd-tiny-train");
        Path instances = dir.resolve("instances");
        if (!Files.exists(instances)) {
            Files.createDirectories(instances);
            Files.copy(train.resolve("instance_0.png"), instances.resolve("instance_0.png"));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString());
        m.put("modelConfig", "../models/sd-tiny.json");
        m.put("tokenizerName", TOKENIZER);
        m.put("instanceDataDir", instances.toString());
        m.put("instancePrompt", "a photo of sks dog");
        m.put("resolution", 64);
        m.put("trainBatchSize", 1);
        m.put("maxTrainSteps", 2);
        m.put("learningRate", 1e-3);
        m.put("lrWarmupSteps", 0);
        m.put("seed", 99L);
        m.put("outputDir", dir.resolve(out).toString());
        m.putAll(extra);
        return TrainConfig.defaults().with(m);
    }

    @Test
    void validationImagesAppearAtTheirStepsWithTheCurrentWeightsAndLeaveTrainingUnchanged() throws IOException {
        Trainer plain = Trainer.open(config("plain", Map.of()));
        plain.train();
        Trainer validated = Trainer.open(config("validated", Map.of("validationPrompt", "a photo of sks dog",
                "validationSteps", 1, "numValidationImages", 2, "validationInferenceSteps", 2)));
        validated.train();

        Map<String, Tensor> a = plain.trainedWeights();
        Map<String, Tensor> b = validated.trainedWeights();
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name).toFloatArray(), b.get(name).toFloatArray(), name);
        }
        Path folder = dir.resolve("validated/validation");
        List<String> names;
        try (Stream<Path> files = Files.list(folder)) {
            names = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("step-1-0.png", "step-1-1.png", "step-2-0.png", "step-2-1.png"), names);
        assertTrue(Files.notExists(dir.resolve("plain/validation")));

        // the last validation shows the final weights: DPM-Solver++(2M), 2 steps, guidance 7.5, seeds 99 and 100
        StableDiffusion sd = new StableDiffusion(validated.model(), ClipTokenizer.load(Path.of(TOKENIZER)));
        List<StableDiffusion.GeneratedImage> direct = sd.generate(new GenerationRequest("a photo of sks dog", "",
                "dpmpp_2m", false, 2, 7.5f, 99, 64, 64, 1, 2, 0.0, null, 1.0, null), (s, n) -> { });
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(rgb(Images.fromTensor(direct.get(i).pixels(), 0)),
                    rgb(Images.load(folder.resolve("step-2-" + i + ".png"))), "image " + i);
        }
        // step 1 had other weights, so its images differ from step 2's
        assertTrue(!java.util.Arrays.equals(rgb(Images.load(folder.resolve("step-1-0.png"))),
                rgb(Images.load(folder.resolve("step-2-0.png")))));
    }

    @Test
    void missingClassImagesAreGeneratedBeforeTheFirstStep() throws IOException {
        Path classes = dir.resolve("classes");
        Trainer trainer = Trainer.open(config("prior", Map.of("withPriorPreservation", true,
                "classDataDir", classes.toString(), "classPrompt", "a photo of dog", "numClassImages", 3,
                "sampleBatchSize", 2, "classInferenceSteps", 2, "maxTrainSteps", 1)));
        List<String> names;
        try (Stream<Path> files = Files.list(classes)) {
            names = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(3, names.size());
        for (int i = 0; i < 3; i++) {
            assertTrue(names.get(i).matches(i + "-[0-9a-f]{40}\\.png"), names.get(i));
        }
        assertEquals(1, trainer.train());
    }

    private static int[] rgb(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
