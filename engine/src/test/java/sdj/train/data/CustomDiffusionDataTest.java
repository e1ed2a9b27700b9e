package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** adobe's Custom Diffusion data: scale augmentation, its captions and masks, the retrieval layout, batches. */
class CustomDiffusionDataTest {
    private static final int RED = 0xFF0000;

    @Test
    void zoomedOutImagesSitOnAGreyCanvasWithAMaskInsideThem() {
        int size = 128;
        RgbImage red = solid(200, 200, RED);
        Set<String> prefixes = new HashSet<>();
        for (long seed = 0; seed < 60; seed++) {
            ScaleAugment.Result r = ScaleAugment.apply(red, size, new SplittableRandom(seed));
            prefixes.add(r.prefix());
            int latent = size / 8;
            double ones = 0;
            for (float m : r.mask()) {
                ones += m;
            }
            boolean far = r.prefix().equals("a far away ") || r.prefix().equals("very small ");
            if (!far) {
                assertEquals(latent * latent, ones, 0, "mask ones unless zoomed out: '" + r.prefix() + "'");
                assertEquals(1f, r.pixels()[0], 0f, "the image fills the frame");
                continue;
            }
            int redPixels = 0;
            int grey = 0;
            for (int i = 0; i < size * size; i++) {
                redPixels += r.pixels()[i] == 1f ? 1 : 0;
                grey += r.pixels()[i] == 0f && r.pixels()[size * size + i] == 0f ? 1 : 0;
            }
            int s = (int) Math.round(Math.sqrt(redPixels));
            assertEquals(s * s, redPixels, "one pasted square");
            assertTrue(s < 0.6 * size && s % 2 == 0, "zoomed out to an even size below 0.6·size: " + s);
            assertEquals(size * size - redPixels, grey, "the canvas is 0 (mid-grey)");
            for (int y = 0; y < latent; y++) {
                for (int x = 0; x < latent; x++) {
                    if (r.mask()[y * latent + x] == 1f) {
                        for (int dy = 0; dy < 8; dy++) {
                            for (int dx = 0; dx < 8; dx++) {
                                assertEquals(1f, r.pixels()[(y * 8 + dy) * size + x * 8 + dx], 0f,
                                        "a masked latent pixel covers only image pixels");
                            }
                        }
                    }
                }
            }
            assertEquals(Math.pow(Math.max(0, s / 8 - 2), 2), ones, 2 * s / 8.0 + 1, "one latent pixel of margin");
        }
        assertEquals(Set.of("", "a far away ", "very small ", "zoomed in ", "close up "), prefixes,
                "every branch is drawn in 60 tries");
    }

    @Test
    void retrievalLayoutCaptionsTheClassImagesAndBatchesPutInstancesFirst(@TempDir Path tmp) throws Exception {
        Path inst = Files.createDirectories(tmp.resolve("inst"));
        png(inst.resolve("a.png"), 80, 60, RED);
        Path reg = Files.createDirectories(tmp.resolve("reg/images"));
        png(reg.resolve("0.png"), 64, 64, 0x00FF00);
        png(reg.resolve("1.png"), 64, 64, 0x0000FF);
        Files.writeString(tmp.resolve("reg/images.txt"), "/elsewhere/images/0.png\n/elsewhere/images/1.png\n");
        Files.writeString(tmp.resolve("reg/caption.txt"), "a cat on a sofa\na cat in the grass\n");
        var concept = new CustomDiffusionData.Concept(inst, "photo of a <new1> cat", tmp.resolve("reg"), null);
        CustomDiffusionData data = CustomDiffusionData.open(List.of(concept), 64, true, false, 4, 5);
        assertEquals(4, data.length(), "2·N_reg items: the regularization half and as many instance items");
        var batch = data.batch(DataPosition.START);
        assertEquals(2, batch.instances());
        assertEquals(List.of("photo of a <new1> cat", "photo of a <new1> cat"), batch.prompts().subList(0, 2));
        assertEquals(Set.of("a cat on a sofa", "a cat in the grass"), Set.copyOf(batch.prompts().subList(2, 4)));
        float[] px = batch.pixels().toFloatArray();
        assertEquals(1f, px[0], 0f, "instance first (red)");
        assertEquals(-1f, px[2 * 3 * 64 * 64], 0f, "then class images (red channel off)");

        Files.writeString(tmp.resolve("reg/caption.txt"), "only one caption\n");
        var e = assertThrows(DataException.class, () -> CustomDiffusionData.open(List.of(concept), 64, true, false, 4, 5));
        assertTrue(e.getMessage().contains("caption.txt has 1 captions"), e.getMessage());
    }

    private static RgbImage solid(int w, int h, int rgb) {
        int[] px = new int[w * h];
        java.util.Arrays.fill(px, rgb);
        return new RgbImage(w, h, px);
    }

    private static void png(Path file, int w, int h, int rgb) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        ImageIO.write(img, "png", file.toFile());
    }
}
