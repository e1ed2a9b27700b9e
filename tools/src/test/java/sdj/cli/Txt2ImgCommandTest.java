package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.image.PngText;
import sdj.sd.pipeline.ModelHash;

/** `sdj txt2img` on the sd-tiny checkpoint: the issue's acceptance run. */
class Txt2ImgCommandTest {
    private static final Path SD_TINY = Path.of(System.getProperty("sdj.shared", "../../shared"), "testdata", "sd-tiny");

    @TempDir
    Path tmp;

    private CliRun generate(Path outdir, String seed) {
        return CliRun.sdj("txt2img", "--prompt", "a photo of a cat", "--ckpt", SD_TINY.resolve("model.ckpt").toString(),
                "--config", "../models/sd-tiny.json", "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz",
                "--sampler", "ddim", "--steps", "10", "--seed", seed, "--W", "128", "--H", "128", "--outdir",
                outdir.toString());
    }

    @Test
    void writesA128PngWithParametersAndIsDeterministic() throws Exception {
        CliRun first = generate(tmp.resolve("a"), "42");
        assertEquals(0, first.status(), first.err());
        Path png = tmp.resolve("a/samples/00000.png");
        assertEquals(png.toString(), first.out().strip(), "prints the path it wrote");

        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(128, img.getWidth());
        assertEquals(128, img.getHeight());
        String params = PngText.read(png).get("parameters");
        String hash = ModelHash.of(SD_TINY.resolve("model.ckpt"));
        assertEquals("a photo of a cat\nSteps: 10, Sampler: DDIM, CFG scale: 7.5, Seed: 42, Size: 128x128, Model hash: "
                + hash + ", Model: model", params);
        assertTrue(hash.matches("[0-9a-f]{8}"));
        // when sampling starts, from the launch (the test JVM's start here) and from the end of the load
        java.util.regex.Matcher start = java.util.regex.Pattern.compile(
                "\\bloaded .* in \\d+\\.\\d s on cpu\\R+sampling starts (\\d+\\.\\d\\d) s after launch \\((\\d+\\.\\d\\d) s"
                + " after the load\\)\\R").matcher(first.err());
        assertTrue(start.find(), first.err());
        assertTrue(Double.parseDouble(start.group(1)) > Double.parseDouble(start.group(2)), start.group());

        CliRun again = generate(tmp.resolve("b"), "42");
        assertEquals(0, again.status(), again.err());
        assertArrayEquals(Files.readAllBytes(png), Files.readAllBytes(tmp.resolve("b/samples/00000.png")),
                "same seed, same bytes");

        CliRun other = generate(tmp.resolve("c"), "43");
        assertEquals(0, other.status(), other.err());
        assertFalse(Arrays.equals(Files.readAllBytes(png), Files.readAllBytes(tmp.resolve("c/samples/00000.png"))),
                "another seed gives another image");
    }

    @Test
    void sizesThatAreNotMultiplesOfEightAreRefused() {
        CliRun r = CliRun.sdj("txt2img", "--prompt", "x", "--ckpt", SD_TINY.resolve("model.ckpt").toString(), "--W", "100");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("multiples of 8"), r.err());
    }

    @Test
    void missingCheckpointSaysWhereToPutIt() {
        CliRun r = CliRun.sdjWithRoot(tmp.toString(), "txt2img", "--prompt", "x");
        assertEquals(1, r.status());
        assertTrue(r.err().contains(tmp.resolve("models/sd-v1-4.ckpt").toString()), r.err());
        assertTrue(r.err().contains("never downloads"), r.err());
    }
}
