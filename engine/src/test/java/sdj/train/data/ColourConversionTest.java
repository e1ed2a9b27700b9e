package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every image becomes RGB the way PIL's {@code convert("RGB")} does it: alpha dropped as is, palette and grey expanded. */
class ColourConversionTest {
    @TempDir
    Path dir;

    @Test
    void alphaIsDroppedNotCompositedOverWhite() {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x000AC81E); // fully transparent (10, 200, 30)
        argb.setRGB(1, 0, 0x80FF0000); // half-transparent red
        RgbImage img = ImageFiles.decode(TestImages.png(dir.resolve("a.png"), argb), "fix it");
        assertArrayEquals(new int[] {0x0AC81E, 0xFF0000}, img.rgb());
    }

    @Test
    void greyValuesAreCopiedToTheThreeChannels() {
        BufferedImage grey = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 128, 255});
        RgbImage img = ImageFiles.decode(TestImages.png(dir.resolve("g.png"), grey), "fix it");
        assertArrayEquals(new int[] {0x000000, 0x808080, 0xFFFFFF}, img.rgb());
    }

    @Test
    void paletteIndicesBecomeTheirColours() {
        IndexColorModel palette = new IndexColorModel(8, 3, new byte[] {10, (byte) 200, 0}, new byte[] {20, 0, 0},
                new byte[] {30, 0, (byte) 255}, new byte[] {(byte) 255, (byte) 255, 0}); // entry 2 transparent
        BufferedImage indexed = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, palette);
        indexed.getRaster().setPixels(0, 0, 3, 1, new int[] {2, 0, 1});
        RgbImage img = ImageFiles.decode(TestImages.png(dir.resolve("p.png"), indexed), "fix it");
        assertArrayEquals(new int[] {0x0000FF, 0x0A141E, 0xC80000}, img.rgb());
    }
}
