package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sdj txt2img` size checks and --vae-tiling on the sd-tiny checkpoint. */
class GenerateSizeTest {
    private static final Path SD_TINY = Path.of(System.getProperty("sdj.shared", "../../shared"), "testdata", "sd-tiny");

    @TempDir
    Path tmp;

    private static CliRun txt2img(Path outdir, String size, String... extra) {
        String[] base = {"txt2img", "--prompt", "a photo of a cat", "--ckpt", SD_TINY.resolve("model.ckpt").toString(),
            "--config", "../models/sd-tiny.json", "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz", "--sampler",
            "ddim", "--steps", "2", "--seed", "42", "--W", size, "--H", size, "--outdir", outdir.toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.sdj(args);
    }

    @Test
    void unaddressableSizeStopsBeforeLoadingWithOneSentence() {
        CliRun r = txt2img(tmp, "65536");
        assertEquals(1, r.status());
        // sd-tiny's first UNet level has 32 channels: GEGLU [2, 8192², 8·32]
        assertTrue(r.err().contains("65536x65536 is too large: the UNet's feed-forward activation [2, 67108864, 256] "
                + "would hold 34359738368 elements, more than one Java array can address (2147483647)"), r.err());
        assertTrue(r.err().strip().endsWith("use a smaller --W/--H."), r.err());
        assertFalse(r.err().contains("loaded"), "refused before the checkpoint is read: " + r.err());
    }

    @Test
    void vaeTilingWithTheImageInOneTileGivesTheSameImage() throws Exception {
        // 128² pixels are 16² latents, inside one 64-latent tile: the tiled decode is the whole decode
        CliRun plain = txt2img(tmp.resolve("plain"), "128");
        assertEquals(0, plain.status(), plain.err());
        CliRun tiled = txt2img(tmp.resolve("tiled"), "128", "--vae-tiling");
        assertEquals(0, tiled.status(), tiled.err());
        Path png = tmp.resolve("tiled/samples/00000.png");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(128, img.getWidth());
        assertEquals(128, img.getHeight());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("plain/samples/00000.png")), Files.readAllBytes(png));
    }
}
