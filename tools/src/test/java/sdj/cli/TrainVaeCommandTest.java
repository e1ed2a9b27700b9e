package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;

/**
 * `sdj train vae`: two steps from random weights on a folder of uncaptioned squares write vae.safetensors (VAE keys
 * only, scale_factor metadata equal to the printed line) and the reconstruction grid; bad VAE flags are one sentence.
 */
class TrainVaeCommandTest {
    private static final Pattern SCALE = Pattern.compile("(?m)^scale_factor (\\d+\\.\\d{4}) \\(latent std (\\d+\\.\\d{4})"
            + " over 3 images\\)$");

    @TempDir
    Path dir;

    @Test
    void twoStepsWriteTheVaeItsScaleFactorAndAGrid() throws IOException {
        Path images = squares(dir.resolve("squares"), 3);
        Path out = dir.resolve("out");
        CliRun r = CliRun.sdj("train", "vae", "--model-config", "../models/sdj-shapes.json", "--train-data-dir",
                images.toString(), "--output-dir", out.toString(), "--seed", "3", "--train-batch-size", "2",
                "--max-train-steps", "2", "--validation-images", "3", "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz");
        assertEquals(0, r.status(), r.err());
        Matcher m = SCALE.matcher(r.out());
        assertTrue(m.find(), r.out());
        SafeTensors vae = SafeTensors.open(out.resolve("vae.safetensors"));
        assertTrue(vae.tensors().keySet().stream().allMatch(k -> k.startsWith("first_stage_model.")));
        assertTrue(vae.tensors().containsKey("first_stage_model.decoder.conv_out.weight"));
        double scale = Double.parseDouble(vae.metadata().get("scale_factor"));
        assertEquals(Double.parseDouble(m.group(1)), scale, 0.00005 + 1e-12);
        assertEquals(1 / Double.parseDouble(vae.metadata().get("latent_std")), scale, 1e-9 * scale);
        BufferedImage grid = ImageIO.read(out.resolve("reconstructions.png").toFile());
        assertEquals(3 * 64, grid.getWidth());
        assertEquals(2 * 64, grid.getHeight());
        assertEquals(2, Files.readAllLines(out.resolve("log.jsonl")).size());
    }

    @Test
    void badVaeFlagsAreOneSentence() throws IOException {
        Path images = squares(dir.resolve("few"), 1);
        CliRun r = CliRun.sdj("train", "vae", "--model-config", "../models/sdj-shapes.json", "--train-data-dir",
                images.toString(), "--output-dir", dir.resolve("o").toString(), "--reconstruction-loss", "lpips");
        assertEquals(2, r.status());
        assertEquals("sdj train: --reconstruction-loss must be l1 or mse, got 'lpips'.\n", r.err());
        CliRun none = CliRun.sdj("train", "vae", "--model-config", "../models/sdj-shapes.json", "--output-dir",
                dir.resolve("o").toString(), "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz");
        assertEquals(2, none.status());
        assertEquals("sdj train: sdj train vae needs --train-data-dir DIR, a folder of training images.\n", none.err());
    }

    private static Path squares(Path folder, int n) throws IOException {
        Files.createDirectories(folder);
        Color[] colours = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW};
        for (int i = 0; i < n; i++) {
            BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            g.setColor(colours[i % 4]);
            g.fillRect(0, 0, 64, 64);
            g.setColor(colours[(i + 1) % 4]);
            g.fillRect(10 + 5 * i, 10, 30, 30);
            g.dispose();
            ImageIO.write(image, "png", folder.resolve("s" + i + ".png").toFile());
        }
        return folder;
    }
}
