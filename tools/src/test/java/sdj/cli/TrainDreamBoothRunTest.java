package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.Json;
import sdj.io.StateDicts;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * `sdj train dreambooth` end to end on sd-tiny: 2 optimizer steps at 64² on the four sd-tiny-train PNGs (two
 * instance, two class images), settings split between a YAML --config and flags. The model file loads as a
 * Stable Diffusion model whose UNet moved away from the base and whose VAE did not; the log has 2 lines and
 * the loss curve is a PNG; --save-format ckpt writes the same tensors as a torch checkpoint.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainDreamBoothRunTest {
    private static final String VOCAB = "../models/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final String MODEL_CONFIG = "../models/sd-tiny.json";

    @TempDir
    static Path dir;

    private Path base;
    private CliRun safetensorsRun;

    @BeforeAll
    void trainTwoSteps() throws IOException {
        Path train = TrainCommandTest.trainReference();
        base = train.resolveSibling("sd-tiny/model.ckpt");
        Path instances = Files.createDirectories(dir.resolve("instances"));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        for (int i = 0; i < 2; i++) {
            Files.copy(train.resolve("instance_" + i + ".png"), instances.resolve("instance_" + i + ".png"));
            Files.copy(train.resolve("class_" + i + ".png"), classes.resolve("class_" + i + ".png"));
        }
        Files.writeString(dir.resolve("train.yaml"), """
                instance_prompt: a photo of sks dog
                with_prior_preservation: true
                class_prompt: a photo of dog
                num_class_images: 2
                resolution: 64
                train_batch_size: 1
                learning_rate: 1.0e-3
                lr_warmup_steps: 0
                max_train_steps: 5
                seed: 1234
                """);
        safetensorsRun = train("out-st");
    }

    private CliRun train(String out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "dreambooth", "--ckpt", base.toString(),
                "--model-config", MODEL_CONFIG, "--vocab", VOCAB, "--config", dir.resolve("train.yaml").toString(),
                "--instance-data-dir", dir.resolve("instances").toString(), "--class-data-dir",
                dir.resolve("classes").toString(), "--max-train-steps", "2", "--output-dir", dir.resolve(out).toString()));
        args.addAll(List.of(more));
        return CliRun.sdj(args.toArray(String[]::new));
    }

    @Test
    void theRunExitsZeroAndSaysWhereTheModelIs() {
        CliRun r = safetensorsRun;
        assertEquals(0, r.status(), r.err());
        Path out = dir.resolve("out-st");
        assertEquals("wrote " + out.resolve("model.safetensors") + " (the trained model, safetensors, CompVis layout)\n"
                + "wrote " + out.resolve("loss.png") + " (the loss curve of " + out.resolve("log.jsonl") + ")\n", r.out());
        assertTrue(r.err().startsWith("sdj train: dreambooth, 2 of 2 steps to go, seed 1234, into " + out + "\n"), r.err());
        assertTrue(r.err().contains("] 1/2 loss ") && r.err().contains("] 2/2 loss "), r.err());
        assertTrue(r.err().matches("(?s).*2/2 loss \\d+\\.\\d{4} lr 1\\.00e-03 \\d+\\.\\d\\d s/it ETA 0:00 \n"), r.err());
    }

    @Test
    void halfMixedPrecisionOnTheCpuIsOneSentenceBeforeAnyWork() {
        CliRun r = train("out-fp16", "--mixed-precision", "fp16");
        assertEquals(2, r.status(), r.err());
        assertEquals("sdj train: --mixed-precision fp16 needs --device cuda; the cpu computes in fp32, so add --device"
                + " cuda or leave --mixed-precision out.\n", r.err());
        assertFalse(Files.exists(dir.resolve("out-fp16")), "refused before the output folder was made");
    }

    @Test
    void theModelLoadsAndOnlyTheUNetMoved() throws IOException {
        Map<String, Tensor> trained = StateDicts.load(dir.resolve("out-st/model.safetensors"));
        Map<String, Tensor> before = StateDicts.load(base);
        assertEquals(before.keySet(), trained.keySet());
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(trained,
                ModelConfigFiles.read(Path.of(MODEL_CONFIG)), "model.safetensors");
        assertTrue(model.unet() != null);
        long movedUNet = 0;
        for (String name : before.keySet()) {
            boolean same = java.util.Arrays.equals(floats(before.get(name)), floats(trained.get(name)));
            if (name.startsWith("model.diffusion_model.")) {
                movedUNet += same ? 0 : 1;
            } else if (name.startsWith("first_stage_model.") || name.startsWith("cond_stage_model.")) {
                assertTrue(same, name + " is not trained and must keep the base weights");
            }
        }
        assertTrue(movedUNet > 100, movedUNet + " UNet tensors changed after 2 steps at lr 1e-3");
    }

    @Test
    void theLogHasTwoStepsAndTheLossCurveIsAPicture() throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("out-st/log.jsonl"), StandardCharsets.UTF_8);
        assertEquals(2, lines.size());
        assertEquals(1L, Json.parseObject(lines.get(0)).get("step"));
        assertEquals(2L, Json.parseObject(lines.get(1)).get("step"));
        assertTrue(Json.parseObject(lines.get(1)).get("loss") instanceof Double loss && loss > 0, lines.get(1));
        BufferedImage png = ImageIO.read(dir.resolve("out-st/loss.png").toFile());
        assertEquals(800, png.getWidth());
        assertEquals(500, png.getHeight());
    }

    @Test
    void adamw8bitAndSaveDiffusersWriteADiffusersFolderWithTheTrainedUNet() throws IOException {
        CliRun r = train("out-8bit", "--optimizer", "adamw8bit", "--max-train-steps", "1", "--save-diffusers");
        assertEquals(0, r.status(), r.err());
        Path out = dir.resolve("out-8bit");
        assertTrue(r.out().contains("wrote " + out.resolve("diffusers") + " (the trained model as a diffusers folder)\n"),
                r.out());
        Map<String, Tensor> model = StateDicts.load(out.resolve("model.safetensors"));
        Map<String, Tensor> unet = StateDicts.load(out.resolve("diffusers/unet/diffusion_pytorch_model.safetensors"));
        Map<String, Tensor> vae = StateDicts.load(out.resolve("diffusers/vae/diffusion_pytorch_model.safetensors"));
        String ldm = "model.diffusion_model.output_blocks.5.1.transformer_blocks.0.attn2.to_k.weight";
        String diffusers = "up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_k.weight";
        assertArrayEquals(floats(model.get(ldm)), floats(unet.get(diffusers)), "the trained weight in both files");
        assertTrue(!java.util.Arrays.equals(floats(StateDicts.load(base).get(ldm)), floats(unet.get(diffusers))),
                "one 8-bit AdamW step at lr 1e-3 moved it");
        assertArrayEquals(floats(model.get("first_stage_model.decoder.mid.attn_1.k.weight")),
                floats(vae.get("decoder.mid_block.attentions.0.to_k.weight")));
    }

    @Test
    void saveFormatCkptWritesTheSameTensorsAsATorchCheckpoint() throws IOException {
        CliRun r = train("out-ckpt", "--save-format", "ckpt");
        assertEquals(0, r.status(), r.err());
        Path ckpt = dir.resolve("out-ckpt/model.ckpt");
        assertTrue(r.out().startsWith("wrote " + ckpt + " (the trained model, ckpt, CompVis layout)\n"), r.out());
        assertEquals(StateDicts.Format.TORCH, StateDicts.formatOfContent(ckpt));
        Map<String, Tensor> fromCkpt = StateDicts.load(ckpt);
        Map<String, Tensor> fromSafetensors = StateDicts.load(dir.resolve("out-st/model.safetensors"));
        // safetensors sorts its header's names; the torch file keeps the base's order, so compare as sets
        assertEquals(fromSafetensors.keySet(), fromCkpt.keySet());
        for (String name : fromSafetensors.keySet()) {
            Tensor a = fromSafetensors.get(name);
            Tensor b = fromCkpt.get(name);
            assertEquals(a.dtype(), b.dtype(), name);
            assertArrayEquals(a.shape(), b.shape(), name);
            assertArrayEquals(floats(a), floats(b), name + ": same seed, same steps, same weights");
        }
    }

    private static float[] floats(Tensor t) {
        return t.to(sdj.tensor.Device.CPU, DType.F32).toFloatArray();
    }
}
