package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `sdj train custom-diffusion` end to end on sd-tiny: 10 steps on the four reference PNGs at 64×64 (to keep it
 * under a minute; the engine's CustomDiffusionTrainingTest runs 20), both delta layouts written; txt2img with either layout draws the same bytes, and not the base model's
 * image. Bad input is one sentence.
 */
class TrainCustomDiffusionRunTest {
    private static final Path TRAIN = TrainCommandTest.trainReference();
    private static final String VOCAB = "../models/clip/bpe_simple_vocab_16e6.txt.gz";

    @TempDir
    Path tmp;

    @Test
    void trainsSavesBothLayoutsAndTheDeltaChangesGeneration() throws Exception {
        Path inst = Files.createDirectories(tmp.resolve("inst"));
        Path cls = Files.createDirectories(tmp.resolve("cls"));
        for (String f : List.of("instance_0.png", "instance_1.png")) {
            Files.copy(TRAIN.resolve(f), inst.resolve(f));
        }
        for (String f : List.of("class_0.png", "class_1.png")) {
            Files.copy(TRAIN.resolve(f), cls.resolve(f));
        }
        Path out = tmp.resolve("out");
        CliRun train = CliRun.sdj("train", "custom-diffusion", "--ckpt", IoCommandsTest.sdTiny("model.ckpt").toString(),
                "--model-config", "../models/sd-tiny.json", "--vocab", VOCAB, "--instance-data-dir", inst.toString(),
                "--instance-prompt", "photo of a <new1> cat", "--with-prior-preservation", "--class-data-dir",
                cls.toString(), "--class-prompt", "photo of a cat", "--num-class-images", "2", "--resolution", "64",
                "--max-train-steps", "10", "--learning-rate", "1e-3", "--seed", "7", "--output-dir", out.toString(),
                "--save-format", "both");
        assertEquals(0, train.status(), train.err());
        assertTrue(train.err().contains("custom-diffusion, 10 of 10 steps to go, seed 7, lr 0.00200000"), train.err());
        for (String f : List.of("delta.ckpt", "pytorch_custom_diffusion_weights.safetensors", "<new1>.safetensors",
                "log.jsonl", "loss.png")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " written");
        }
        assertEquals(10, Files.readAllLines(out.resolve("log.jsonl")).size(), "one log line per step");

        CliRun base = generate("base");
        CliRun compvis = generate("compvis", "--delta-ckpt", out.resolve("delta.ckpt").toString());
        CliRun diffusers = generate("diffusers", "--delta-ckpt",
                out.resolve("pytorch_custom_diffusion_weights.safetensors").toString());
        for (CliRun r : List.of(base, compvis, diffusers)) {
            assertEquals(0, r.status(), r.err());
        }
        assertArrayEquals(png("compvis"), png("diffusers"), "the same weights in either layout, the same image");
        assertFalse(Arrays.equals(png("base"), png("compvis")), "the trained delta changes the image");
    }

    @Test
    void badInputIsOneSentence() {
        CliRun r = CliRun.sdj("train", "custom-diffusion", "--ckpt", IoCommandsTest.sdTiny("model.ckpt").toString(),
                "--vocab", VOCAB, "--output-dir", tmp.resolve("o").toString());
        assertEquals(2, r.status());
        assertEquals("sdj train: custom-diffusion needs --instance-data-dir and --instance-prompt (e.g. \"photo of a"
                + " <new1> cat\"), or --concepts-list FILE.\n", r.err());
        CliRun format = CliRun.sdj("train", "custom-diffusion", "--instance-data-dir", tmp.toString(),
                "--instance-prompt", "x", "--vocab", VOCAB, "--save-format", "ckpt");
        assertEquals(2, format.status());
        assertEquals("sdj train: the delta format must be compvis, diffusers or both, got 'ckpt'.\n", format.err());
    }

    private CliRun generate(String dir, String... extra) {
        String[] args = {"txt2img", "--prompt", "photo of a <new1> cat", "--ckpt",
                IoCommandsTest.sdTiny("model.ckpt").toString(), "--config", "../models/sd-tiny.json", "--vocab", VOCAB,
                "--sampler", "ddim", "--steps", "4", "--seed", "42", "--W", "64", "--H", "64", "--outdir",
                tmp.resolve(dir).toString()};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return CliRun.sdj(all);
    }

    private byte[] png(String dir) throws Exception {
        return Files.readAllBytes(tmp.resolve(dir).resolve("samples/00000.png"));
    }
}
