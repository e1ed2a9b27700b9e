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
import sdj.io.SafeTensors;
import sdj.io.TorchCheckpoint;
import sdj.tensor.Tensor;

/**
 * `sdj txt2img --delta-ckpt` with the reference delta on sd-tiny: the image differs from the base model's, the same
 * seed gives the same bytes; `--embeddings` with the delta's own row gives the base weights' image with that token.
 */
class PersonalizationTest {
    private static final Path TRAIN = Path.of(System.getProperty("sdj.shared", "../../shared"), "testdata", "sd-tiny-train");

    @TempDir
    Path tmp;

    private CliRun generate(Path outdir, String prompt, String... extra) {
        String[] base = {"txt2img", "--prompt", prompt, "--ckpt", IoCommandsTest.sdTiny("model.ckpt").toString(),
                "--config", "../models/sd-tiny.json", "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz",
                "--sampler", "ddim", "--steps", "4", "--seed", "42", "--W", "64", "--H", "64", "--outdir",
                outdir.toString()};
        String[] all = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return CliRun.sdj(all);
    }

    private byte[] png(String dir) throws Exception {
        return Files.readAllBytes(tmp.resolve(dir).resolve("samples/00000.png"));
    }

    @Test
    void deltaChangesTheImageDeterministically() throws Exception {
        String delta = TRAIN.resolve("delta.ckpt").toString();
        CliRun base = generate(tmp.resolve("base"), "photo of a cat");
        assertEquals(0, base.status(), base.err());
        CliRun first = generate(tmp.resolve("a"), "photo of a <new1> cat", "--delta-ckpt", delta);
        assertEquals(0, first.status(), first.err());
        assertTrue(first.err().contains("tokens [<new1>]"), first.err());
        CliRun again = generate(tmp.resolve("b"), "photo of a <new1> cat", "--delta-ckpt", delta);
        assertEquals(0, again.status(), again.err());
        assertArrayEquals(png("a"), png("b"), "same seed, same bytes");
        assertFalse(Arrays.equals(png("base"), png("a")), "the delta changes the image");
    }

    @Test
    void embeddingFileAddsTheTokenOnly() throws Exception {
        Tensor embed = TorchCheckpoint.open(TRAIN.resolve("delta.ckpt")).stateDict().get("embed");
        Path file = tmp.resolve("<new1>.safetensors");
        SafeTensors.write(file, Map.of("<new1>", embed), Map.of());
        CliRun withToken = generate(tmp.resolve("e"), "photo of a <new1> cat", "--embeddings", file.toString());
        assertEquals(0, withToken.status(), withToken.err());
        assertTrue(withToken.err().contains("embedding <new1>: 1 vector(s)"), withToken.err());
        CliRun plain = generate(tmp.resolve("p"), "photo of a <new1> cat");
        assertEquals(0, plain.status(), plain.err());
        assertFalse(Arrays.equals(png("e"), png("p")), "<new1> is one learned vector, not the BPE pieces of '<new1>'");
        CliRun missing = generate(tmp.resolve("m"), "x", "--embeddings", tmp.resolve("nothing").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("--embeddings " + tmp.resolve("nothing") + " does not exist"), missing.err());
    }
}
