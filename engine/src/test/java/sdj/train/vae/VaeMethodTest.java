package sdj.train.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.random.TorchGenerator;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Tensor;
import sdj.train.run.TrainConfig;
import sdj.train.run.Trainer;

/** VAE training on models/sdj-shapes.json's VAE (random weights) and a few coloured squares made here. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VaeMethodTest {
    private static final String TOKENIZER = "../models/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final Path MODEL_CONFIG = Path.of("../models/sdj-shapes.json");
    private static final int STEPS = 40;

    @TempDir
    static Path dir;
    private ModelConfigs configs;
    private Path images;
    private final List<Double> reconstruction = new ArrayList<>();
    private Trainer run;
    private VaeMethod method;
    private Map<String, float[]> initial;

    @BeforeAll
    void train() throws IOException {
        configs = ModelConfigFiles.read(MODEL_CONFIG);
        images = squares(dir.resolve("squares"), 4);
        StableDiffusionModel model = StableDiffusionModel.random(configs, 7);
        initial = copy(model.parameters());
        VaeMethod[] opened = new VaeMethod[1];
        run = new Trainer((c, p, b) -> opened[0] = VaeMethod.open(c, p, VaeSettings.defaults()),
                config("run", STEPS, 1e-3, null), model, tokenizer(), null);
        method = opened[0];
        run.onProgress(p -> reconstruction.add(method.lastParts().meanReconstruction()));
        run.train();
        run.saveModel(dir.resolve("run/vae.safetensors"));
    }

    @Test
    void lossEqualsLdmsFormulaComputedHere() {
        StableDiffusionModel model = StableDiffusionModel.random(configs, 3);
        Tensor x = new TorchGenerator(11).randn(2, 3, 64, 64).mul(0.5f);
        float logvar = 0.3f;
        double klWeight = 0.01; // large enough that the KL term shows in the float32 total
        VaeLoss.Parts parts = VaeLoss.of(model.vae(), x, Tensor.scalar(logvar), klWeight, VaeLoss.Reconstruction.L1,
                new TorchGenerator(5));
        float[] m = model.vae().encodeMoments(x).toFloatArray();
        float[] eps = new TorchGenerator(5).randn(2, 4, 8, 8).toFloatArray();
        int plane = 4 * 8 * 8;
        float[] z = new float[2 * plane];
        double kl = 0;
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < plane; i++) {
                double mean = m[b * 2 * plane + i];
                double lv = m[b * 2 * plane + plane + i];
                z[b * plane + i] = (float) (mean + Math.exp(0.5 * lv) * eps[b * plane + i]);
                kl += 0.5 * (mean * mean + Math.exp(lv) - 1 - lv);
            }
        }
        float[] decoded = model.vae().decode(Tensor.of(z, 2, 4, 8, 8)).toFloatArray();
        float[] pixels = x.toFloatArray();
        double nll = 0;
        for (int i = 0; i < pixels.length; i++) {
            nll += Math.abs(pixels[i] - decoded[i]) / Math.exp(logvar) + logvar;
        }
        double expected = nll / 2 + klWeight * kl / 2;
        assertEquals(expected, parts.total().item(), 2e-5 * expected);
        assertEquals(kl / 2, parts.klPerImage(), 1e-4 * kl);
    }

    @Test
    void logvarGradientIsLdmsDerivative() {
        StableDiffusionModel model = StableDiffusionModel.random(configs, 3);
        Tensor x = new TorchGenerator(12).randn(2, 3, 64, 64).mul(0.5f);
        Tensor logvar = Tensor.scalar(-0.2f).requiresGrad(true);
        VaeLoss.Parts parts = VaeLoss.of(model.vae(), x, logvar, 1e-6, VaeLoss.Reconstruction.MSE, new TorchGenerator(5));
        parts.total().backward();
        // d/dlv (Σrec·e^(−lv) + N·lv) / B with N = 2·3·64·64 and Σrec = N·meanRec
        double n = 2 * 3 * 64 * 64;
        double expected = (-n * parts.meanReconstruction() * Math.exp(0.2) + n) / 2;
        assertEquals(expected, logvar.grad().item(), 1e-4 * Math.abs(expected) + 1e-3);
    }

    @Test
    void onlyTheVaeTrainsAndEveryVaeTensorChanges() {
        Map<String, Tensor> now = run.model().parameters();
        int vae = 0;
        for (Map.Entry<String, float[]> e : initial.entrySet()) {
            boolean changed = !java.util.Arrays.equals(e.getValue(), now.get(e.getKey()).toFloatArray());
            if (e.getKey().startsWith("first_stage_model.")) {
                vae++;
                assertTrue(changed, e.getKey() + " did not train");
            } else {
                assertFalse(changed, e.getKey() + " changed but only the VAE trains");
            }
        }
        assertTrue(vae > 50, "VAE tensors: " + vae);
        assertEquals(vae + 1, run.trainedWeights().size()); // the VAE and loss.logvar
        assertTrue(run.trainedWeights().containsKey(VaeMethod.LOGVAR));
    }

    @Test
    void fortyStepsOnFourSquaresCutTheReconstructionErrorByAQuarter() {
        assertEquals(STEPS, reconstruction.size());
        // means over whole epochs (2 batches of 2), as the two batches' errors differ
        double first = (reconstruction.get(0) + reconstruction.get(1)) / 2;
        double last = reconstruction.subList(STEPS - 4, STEPS).stream().mapToDouble(Double::doubleValue).average()
                .orElseThrow();
        System.out.printf("VAE L1 per pixel: steps 1-2 %.4f, steps %d-%d %.4f%n", first, STEPS - 3, STEPS, last);
        // measured 0.985 -> 0.698 (ratio 0.71); a VAE whose loss or gradient were wrong stays near 1
        assertTrue(last <= 0.75 * first, "L1 " + first + " -> " + last + " " + reconstruction);
    }

    @Test
    void resultHoldsOnlyTheVaeInFp32WithTheMeasuredScaleFactor() throws IOException {
        SafeTensors file = SafeTensors.open(dir.resolve("run/vae.safetensors"));
        Map<String, Tensor> weights = run.model().parameters();
        long vaeKeys = weights.keySet().stream().filter(k -> k.startsWith("first_stage_model.")).count();
        assertEquals(vaeKeys, file.tensors().size());
        assertTrue(file.tensors().values().stream().allMatch(t -> t.dtype() == sdj.tensor.DType.F32));
        Tensor convIn = file.tensors().get("first_stage_model.encoder.conv_in.weight");
        assertArrayEquals(weights.get("first_stage_model.encoder.conv_in.weight").toFloatArray(), convIn.toFloatArray());
        LatentScale scale = method.scale();
        assertEquals(4, scale.images());
        assertEquals(1 / scale.latentStd(), scale.scaleFactor(), 1e-12);
        assertEquals(Double.toString(scale.scaleFactor()), file.metadata().get("scale_factor"));
        assertTrue(scale.line().matches("scale_factor \\d+\\.\\d{4} \\(latent std \\d+\\.\\d{4} over 4 images\\)"),
                scale.line());
    }

    @Test
    void resumedRunEqualsUninterruptedBitForBit() throws IOException {
        Trainer straight = trainer("straight", 3, null, 2);
        straight.train();
        Trainer first = trainer("resumed", 3, null, 2);
        first.train(2);
        Trainer resumed = trainer("resumed", 3, "latest", 2);
        assertEquals(2, resumed.globalStep());
        resumed.train();
        for (Map.Entry<String, Tensor> e : straight.trainedWeights().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), resumed.trainedWeights().get(e.getKey()).toFloatArray(),
                    e.getKey());
        }
    }

    @Test
    void folderWithoutImagesOrWithAnUnreadableOneIsOneSentence() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Exception none = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> VaeMethod.open(config("x", 1, 1e-3, null).with(Map.of("instanceDataDir", empty.toString())),
                        new sdj.sd.pipeline.StableDiffusion(StableDiffusionModel.random(configs, 1), tokenizer()),
                        VaeSettings.defaults()));
        assertTrue(none.getMessage().contains(empty.toString()), none.getMessage());
        Path bad = Files.createDirectories(dir.resolve("bad"));
        Files.writeString(bad.resolve("broken.png"), "not a png");
        Exception broken = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> VaeMethod.open(config("x", 1, 1e-3, null).with(Map.of("instanceDataDir", bad.toString())),
                        new sdj.sd.pipeline.StableDiffusion(StableDiffusionModel.random(configs, 1), tokenizer()),
                        VaeSettings.defaults()));
        assertTrue(broken.getMessage().contains("broken.png"), broken.getMessage());
        System.out.println(none.getMessage() + "\n" + broken.getMessage());
    }

    private Trainer trainer(String out, int steps, String resume, int checkpointing) throws IOException {
        TrainConfig c = config(out, steps, 1e-3, resume).with(Map.of("checkpointingSteps", checkpointing));
        return new Trainer((cc, p, b) -> VaeMethod.open(cc, p, VaeSettings.defaults()), c,
                StableDiffusionModel.random(configs, 7), tokenizer(), null);
    }

    private TrainConfig config(String out, int steps, double lr, String resume) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pretrainedModelNameOrPath", "(random weights)");
        m.put("tokenizerName", TOKENIZER);
        m.put("instanceDataDir", images.toString());
        m.put("instancePrompt", "an image");
        m.put("resolution", 64);
        m.put("trainBatchSize", 2);
        m.put("maxTrainSteps", steps);
        m.put("learningRate", lr);
        m.put("randomFlip", true);
        m.put("seed", 99L);
        m.put("outputDir", dir.resolve(out).toString());
        m.put("resumeFromCheckpoint", resume);
        return TrainConfig.defaults().with(m);
    }

    private static ClipTokenizer tokenizer() throws IOException {
        return ClipTokenizer.load(Path.of(TOKENIZER));
    }

    /** {@code n} 64×64 PNGs: a coloured square on a differently coloured background, no captions. */
    static Path squares(Path folder, int n) throws IOException {
        Files.createDirectories(folder);
        Color[] colours = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW, Color.WHITE, Color.BLACK};
        for (int i = 0; i < n; i++) {
            BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            g.setColor(colours[i % colours.length]);
            g.fillRect(0, 0, 64, 64);
            g.setColor(colours[(i + 2) % colours.length]);
            g.fillRect(8 + 4 * i, 12 + 2 * i, 28, 28);
            g.dispose();
            ImageIO.write(image, "png", folder.resolve("square_" + i + ".png").toFile());
        }
        return folder;
    }

    private static Map<String, float[]> copy(Map<String, Tensor> tensors) {
        Map<String, float[]> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> out.put(k, v.toFloatArray().clone()));
        return out;
    }
}
