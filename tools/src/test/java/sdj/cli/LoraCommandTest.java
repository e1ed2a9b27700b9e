package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.image.PngText;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.tensor.Tensor;

/**
 * LoRA from the command line on sd-tiny: {@code sdj lora merge} writes the base with the reference's
 * kohya file folded in; txt2img takes it by {@code --lora FILE:S} or by a prompt tag.
 */
class LoraCommandTest {
    private static final Path SHARED = Path.of(System.getProperty("sdj.shared", "../../shared"));
    private static final Path BASE = SHARED.resolve("testdata/sd-tiny/model.ckpt");
    private static final Path TRAIN = SHARED.resolve("testdata/sd-tiny-train");
    private static final Path LORA = TRAIN.resolve("lora_kohya.safetensors");

    @TempDir
    Path tmp;

    @Test
    void mergeWritesTheFullModelWithTheAdaptersFoldedIn() throws Exception {
        Path out = tmp.resolve("merged.safetensors");
        CliRun run = CliRun.sdj("lora", "merge", "--ckpt", BASE.toString(), "--lora", LORA + ":0.7", "--out", out.toString(),
                "--config", "../models/sd-tiny.json");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("lora lora_kohya.safetensors (strength 0.7): applied 204 modules, every key used"),
                run.out());

        Map<String, Tensor> base = StateDicts.load(BASE);
        Map<String, Tensor> merged = SafeTensors.open(out).tensors();
        Map<String, Tensor> lora = SafeTensors.open(LORA).tensors();
        assertEquals(base.keySet(), merged.keySet());
        // one conv1x1 module by hand: W + 0.7·(alpha/r)·up·down
        String kohya = "lora_unet_up_blocks_1_attentions_2_proj_out";
        String key = "model.diffusion_model.output_blocks.5.1.proj_out.weight";
        float[] w0 = base.get(key).toFloatArray();
        float[] w1 = merged.get(key).toFloatArray();
        float[] up = lora.get(kohya + ".lora_up.weight").toFloatArray();
        float[] down = lora.get(kohya + ".lora_down.weight").toFloatArray();
        float scale = lora.get(kohya + ".alpha").item() / 4;
        int c = base.get(key).size(0);
        for (int o = 0; o < c; o++) {
            for (int i = 0; i < c; i++) {
                double d = 0;
                for (int r = 0; r < 4; r++) {
                    d += up[o * 4 + r] * (double) down[r * c + i];
                }
                assertEquals(w0[o * c + i] + 0.7 * scale * d, w1[o * c + i], 1e-6, key);
            }
        }
        String untouched = "model.diffusion_model.output_blocks.5.1.proj_out.bias";
        assertArrayEquals(base.get(untouched).toFloatArray(), merged.get(untouched).toFloatArray());
    }

    @Test
    void extractFromTheMergedModelGivesTheReferenceModules() throws Exception {
        Path merged = tmp.resolve("merged.safetensors");
        assertEquals(0, CliRun.sdj("lora", "merge", "--ckpt", BASE.toString(), "--lora", LORA.toString(), "--out",
                merged.toString(), "--config", "../models/sd-tiny.json").status());
        Path out = tmp.resolve("extracted.safetensors");
        CliRun run = CliRun.sdj("lora", "extract", "--base", BASE.toString(), "--tuned", merged.toString(), "--rank", "4",
                "--out", out.toString(), "--config", "../models/sd-tiny.json");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("rank 4, 204 modules (0 unchanged left out)"), run.out());
        SafeTensors file = SafeTensors.open(out);
        assertEquals(new java.util.TreeSet<>(SafeTensors.open(LORA).tensors().keySet()),
                new java.util.TreeSet<>(file.tensors().keySet()));
        assertEquals("4", file.metadata().get("ss_network_dim"));
        assertEquals("stable-diffusion-v1/lora", file.metadata().get("modelspec.architecture"));
    }

    @Test
    void mergeWithoutItsFlagsSaysWhatIsMissing() {
        CliRun run = CliRun.sdj("lora", "merge", "--ckpt", BASE.toString());
        assertEquals(1, run.status());
        assertTrue(run.err().contains("--lora") && run.err().contains("--out"), run.err());
    }

    private CliRun txt2img(Path outdir, String prompt, String... extra) {
        String[] common = {"txt2img", "--prompt", prompt, "--ckpt", BASE.toString(), "--config", "../models/sd-tiny.json",
            "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz", "--sampler", "ddim", "--steps", "4", "--seed", "5",
            "--W", "64", "--H", "64", "--outdir", outdir.toString()};
        String[] args = Arrays.copyOf(common, common.length + extra.length);
        System.arraycopy(extra, 0, args, common.length, extra.length);
        return CliRun.sdj(args);
    }

    @Test
    void txt2imgTakesTheLoraByFlagOrByPromptTag() throws Exception {
        CliRun flag = txt2img(tmp.resolve("flag"), "photo of a sks cat", "--lora", LORA + ":0.7");
        assertEquals(0, flag.status(), flag.err());
        assertTrue(flag.err().contains("applied 204 modules, every key used"), flag.err());
        CliRun tag = txt2img(tmp.resolve("tag"), "photo of a <lora:lora_kohya:0.7>sks cat", "--lora-dir", TRAIN.toString());
        assertEquals(0, tag.status(), tag.err());
        CliRun none = txt2img(tmp.resolve("none"), "photo of a sks cat");
        assertEquals(0, none.status(), none.err());

        byte[] byFlag = Files.readAllBytes(tmp.resolve("flag/samples/00000.png"));
        Path tagPng = tmp.resolve("tag/samples/00000.png");
        assertArrayEquals(pixels(byFlag), pixels(Files.readAllBytes(tagPng)), "the tag is the flag, and is no prompt text");
        assertFalse(Arrays.equals(pixels(byFlag), pixels(Files.readAllBytes(tmp.resolve("none/samples/00000.png")))),
                "the LoRA changes the image");
        assertTrue(PngText.read(tagPng).get("parameters").startsWith("photo of a <lora:lora_kohya:0.7>sks cat\n"),
                "the PNG keeps the prompt as typed, as A1111 does");
    }

    @Test
    void anUnknownPromptTagIsOneClearSentence() {
        CliRun run = txt2img(tmp.resolve("x"), "a <lora:nothing_here:1> cat", "--lora-dir", tmp.toString());
        assertEquals(1, run.status());
        assertTrue(run.err().contains("<lora:nothing_here>") && run.err().contains("--lora-dir"), run.err());
    }

    /** The decoded pixels (the PNG text differs between the runs: it holds the prompt). */
    private static byte[] pixels(byte[] png) throws Exception {
        var img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
        int[] rgb = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(rgb.length * 4);
        b.asIntBuffer().put(rgb);
        return b.array();
    }
}
