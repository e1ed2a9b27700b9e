package sdj.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.tensor.Tensor;

class ImagesTest {
    @TempDir
    Path dir;

    private static BufferedImage rgb(int w, int h, int[] px) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, px, 0, w);
        return img;
    }

    /** Pixel (x, y) = (x, y, 7) so geometry can be read back from the colours. */
    private static BufferedImage coordinates(int w, int h) {
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                px[y * w + x] = x << 16 | y << 8 | 7;
            }
        }
        return rgb(w, h, px);
    }

    // ------------------------------------------------------------------ tensors

    @Test
    void toTensorMapsBytesToMinusOneToOneInRgbPlanes() {
        Tensor t = Images.toTensor(rgb(2, 1, new int[] {0xFF0080, 0x00FF01}));
        assertArrayEquals(new int[] {1, 3, 1, 2}, t.shape());
        // Planes R, G, B; each pixel x -> x / 127.5 - 1 (hand-computed: 128 -> 1/255 = 0.0039215686,
        // 1 -> -0.99215686); fp32 rounding of 128/127.5 moves the first by 6e-8, hence the tolerance.
        assertArrayEquals(new float[] {1f, -1f, -1f, 1f, 0.0039215686f, -0.99215686f}, t.floats(), 1e-7f);
        // Bit-identical to CompVis's fp32 2 * (x / 255) - 1.
        for (int v = 0; v < 256; v++) {
            float t1 = Images.toTensor(rgb(1, 1, new int[] {v << 16})).floats()[0];
            assertEquals(2f * ((float) v / 255f) - 1f, t1, 0f, "value " + v);
        }
    }

    @Test
    void toTensorIgnoresAlpha() {
        BufferedImage argb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00FFFFFF); // transparent white stays white
        assertArrayEquals(new float[] {1f, 1f, 1f}, Images.toTensor(argb).floats(), 0f);
    }

    @Test
    void fromTensorTruncatesLikeCompVis() {
        // Values: -1 -> 0, 1 -> 255, 0 -> 127 (127.5 truncated), out of range clamps, NaN -> 0.
        float[] r = {-1f, 1f, 0f, -3f, 3f, Float.NaN};
        // 0.99 -> (1.99/2)*255 = 253.725 -> 253; -0.5 -> 63.75 -> 63.
        float[] g = {0.99f, -0.5f, 0f, 0f, 0f, 0f};
        float[] b = new float[6];
        float[] data = new float[18];
        System.arraycopy(r, 0, data, 0, 6);
        System.arraycopy(g, 0, data, 6, 6);
        System.arraycopy(b, 0, data, 12, 6);
        BufferedImage img = Images.fromTensor(Tensor.of(data, 1, 3, 2, 3), 0);
        assertEquals(3, img.getWidth());
        assertEquals(2, img.getHeight());
        int[] expectR = {0, 255, 127, 0, 255, 0};
        int[] expectG = {253, 63, 127, 127, 127, 127};
        for (int i = 0; i < 6; i++) {
            int p = img.getRGB(i % 3, i / 3);
            assertEquals(expectR[i], p >>> 16 & 0xFF, "R " + i);
            assertEquals(expectG[i], p >>> 8 & 0xFF, "G " + i);
            assertEquals(127, p & 0xFF, "B " + i);
        }
    }

    @Test
    void fromTensorPicksTheBatchIndexAndRoundTripsEveryByte() {
        int[] px = new int[256];
        for (int v = 0; v < 256; v++) {
            px[v] = v << 16 | (255 - v) << 8 | (v * 7 & 0xFF);
        }
        float[] one = Images.toTensor(rgb(16, 16, px)).floats();
        float[] batch = new float[one.length * 2];
        java.util.Arrays.fill(batch, 0, one.length, -1f);
        System.arraycopy(one, 0, batch, one.length, one.length); // image 0 all -1 (black), image 1 = px
        // CompVis's truncation is not an exact inverse: ((v/127.5 - 1) + 1) / 2 * 255 in fp32 can land a
        // hair below v (v = 1 gives 0.99999994 -> 0), so each byte comes back as v or v - 1, never more.
        BufferedImage back = Images.fromTensor(Tensor.of(batch, 2, 3, 16, 16), 1);
        int[] got = back.getRGB(0, 0, 16, 16, null, 0, 16);
        int exact = 0;
        for (int i = 0; i < 256; i++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                int want = px[i] >>> shift & 0xFF;
                int have = got[i] >>> shift & 0xFF;
                assertTrue(have == want || have == want - 1, "pixel " + i + ": " + want + " -> " + have);
                exact += have == want ? 1 : 0;
            }
        }
        assertTrue(exact > 256, "most bytes survive exactly, got " + exact + " of 768");
        assertEquals(0x00FF00, got[0] & 0xFFFFFF, "0 and 255 are exact");
        assertEquals(0xFF0000, got[255] & 0xFFFF00, "0 and 255 are exact");
        assertEquals(0, Images.fromTensor(Tensor.of(batch, 2, 3, 16, 16), 0).getRGB(5, 5) & 0xFFFFFF);
        assertThrows(IllegalArgumentException.class, () -> Images.fromTensor(Tensor.of(batch, 2, 3, 16, 16), 2));
        assertThrows(IllegalArgumentException.class, () -> Images.fromTensor(Tensor.zeros(1, 4, 2, 2), 0));
    }

    // ------------------------------------------------------------------ loading

    @Test
    void loadReadsPngWrittenByUsAndGreyPngsWithoutGammaShift() throws Exception {
        Path f = dir.resolve("ours.png");
        PngWriter.write(f, new int[] {0x123456, 0xABCDEF}, 2, 1, Map.of());
        BufferedImage img = Images.load(f);
        assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
        assertEquals(0x123456, img.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(0xABCDEF, img.getRGB(1, 0) & 0xFFFFFF);

        BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 128);
        grey.getRaster().setSample(1, 0, 0, 255);
        Path g = dir.resolve("grey.png");
        ImageIO.write(grey, "png", g.toFile());
        BufferedImage loaded = Images.load(g);
        assertEquals(0x808080, loaded.getRGB(0, 0) & 0xFFFFFF, "stored grey 128 stays 128");
        assertEquals(0xFFFFFF, loaded.getRGB(1, 0) & 0xFFFFFF);
    }

    @Test
    void loadReadsJpegAndBmp() throws Exception {
        BufferedImage flat = rgb(8, 8, new int[64]);
        for (String fmt : new String[] {"jpg", "bmp"}) {
            Path f = dir.resolve("x." + fmt);
            ImageIO.write(flat, fmt, f.toFile());
            BufferedImage img = Images.load(f);
            assertEquals(8, img.getWidth());
            assertTrue((img.getRGB(3, 3) & 0xFF) < 4, fmt);
        }
    }

    private String loadError(Path f) {
        return assertThrows(IOException.class, () -> Images.load(f)).getMessage();
    }

    @Test
    void loadErrorsNameTheFile() throws Exception {
        Path missing = dir.resolve("missing.png");
        assertEquals("Image file " + missing + " does not exist.", loadError(missing));

        Path text = dir.resolve("notes.png");
        Files.writeString(text, "just some text");
        String m = loadError(text);
        assertTrue(m.contains(text.toString()) && m.contains("not an image format"), m);

        Path truncated = dir.resolve("cut.png");
        byte[] good = PngWriter.encode(new int[64 * 64], 64, 64, Map.of());
        Files.write(truncated, java.util.Arrays.copyOf(good, 40));
        m = loadError(truncated);
        assertTrue(m.contains(truncated.toString()) && m.contains("corrupt"), m);

        Path webp = dir.resolve("photo.webp");
        Files.write(webp, "RIFF\0\0\0\0WEBPVP8 ".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        m = loadError(webp); // WebP is read by the TwelveMonkeys plugin, so a cut-off one is corrupt
        assertTrue(m.contains(webp.toString()) && m.contains("corrupt or truncated (EOFException)"), m);

        m = loadError(dir);
        assertTrue(m.contains(dir.toString()) && m.contains("directory"), m);
    }

    // ------------------------------------------------------------------ geometry

    @Test
    void centerCropTakesTheMiddleAndPutsAnOddPixelRightAndBottom() {
        BufferedImage c = Images.centerCrop(coordinates(10, 7), 4, 4);
        assertEquals(4, c.getWidth());
        assertEquals(4, c.getHeight());
        // Surplus 6 -> left 3; surplus 3 -> top 1 (the extra row goes to the bottom).
        assertEquals(3 << 16 | 1 << 8 | 7, c.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(6 << 16 | 4 << 8 | 7, c.getRGB(3, 3) & 0xFFFFFF);
        assertThrows(IllegalArgumentException.class, () -> Images.centerCrop(coordinates(4, 4), 5, 4));
    }

    @Test
    void resizeAndCenterCropScalesTheShorterSide() {
        // 40x20 -> shorter side 10: 20x10, then crop the middle 10x10 (columns 5..14 of the 20).
        BufferedImage src = coordinates(40, 20);
        BufferedImage out = Images.resizeAndCenterCrop(src, 10);
        assertEquals(10, out.getWidth());
        assertEquals(10, out.getHeight());
        BufferedImage half = Images.resize(src, 20, 10);
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 10; x++) {
                assertEquals(half.getRGB(x + 5, y), out.getRGB(x, y));
            }
        }
        // Portrait 30x45 at 20: 20x30 (30 = 20*45/30), crop rows 5..24.
        BufferedImage p = Images.resizeAndCenterCrop(coordinates(30, 45), 20);
        assertEquals(Images.resize(coordinates(30, 45), 20, 30).getRGB(7, 5), p.getRGB(7, 0));
    }

    @Test
    void resizeKeepsFlatColourAndAveragesWhenShrinking() {
        int[] flat = new int[30 * 20];
        java.util.Arrays.fill(flat, 0x3C78B4);
        BufferedImage f = Images.resize(rgb(30, 20, flat), 7, 11);
        for (int y = 0; y < 11; y++) {
            for (int x = 0; x < 7; x++) {
                assertEquals(0x3C78B4, f.getRGB(x, y) & 0xFFFFFF);
            }
        }
        // A 1-pixel black/white checkerboard halved is mid grey (no aliasing) away from the border,
        // where the clipped and renormalised Lanczos window loses its symmetry.
        int[] checker = new int[64 * 64];
        for (int i = 0; i < checker.length; i++) {
            checker[i] = ((i % 64 + i / 64) & 1) == 0 ? 0xFFFFFF : 0;
        }
        BufferedImage c = Images.resize(rgb(64, 64, checker), 32, 32);
        for (int y = 3; y < 29; y++) {
            for (int x = 3; x < 29; x++) {
                int v = c.getRGB(x, y) & 0xFF;
                assertTrue(Math.abs(v - 127.5) <= 1, "pixel " + x + "," + y + " = " + v);
            }
        }
        // Identity size leaves pixels unchanged (Lanczos is interpolating at integer offsets).
        BufferedImage same = Images.resize(coordinates(9, 5), 9, 5);
        assertEquals(coordinates(9, 5).getRGB(4, 2), same.getRGB(4, 2));
    }

    @Test
    void flipHorizontalMirrorsColumns() {
        BufferedImage f = Images.flipHorizontal(coordinates(5, 2));
        assertEquals(4 << 16 | 1 << 8 | 7, f.getRGB(0, 1) & 0xFFFFFF);
        assertEquals(0 << 16 | 0 << 8 | 7, f.getRGB(4, 0) & 0xFFFFFF);
    }

    // ------------------------------------------------------------------ masks

    @Test
    void maskWhiteRepaintsBlackKeepsAreaAveragedThenThresholded() {
        // 16x8 mask -> 2x1 latent: each latent cell averages an 8x8 block.
        int w = 16;
        int h = 8;
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (x < 8) {
                    px[y * w + x] = y < 4 ? 0xFFFFFF : 0; // left block: exactly half white -> 0.5 -> 1
                } else {
                    px[y * w + x] = y < 3 ? 0xFFFFFF : 0; // right block: 3/8 white -> 0
                }
            }
        }
        Tensor m = Images.maskToLatentMask(rgb(w, h, px), 1, 2);
        assertArrayEquals(new int[] {1, 1, 1, 2}, m.shape());
        assertArrayEquals(new float[] {1f, 0f}, m.floats(), 0f);

        // Grey levels go through luma: pure red (luma 0.299) keeps, light grey 200 (0.78) repaints.
        Tensor g = Images.maskToLatentMask(rgb(2, 1, new int[] {0xFF0000, 0xC8C8C8}), 1, 2);
        assertArrayEquals(new float[] {0f, 1f}, g.floats(), 0f);

        // Non-integer ratio: 3 pixels -> 2 cells; cell 0 covers pixel 0 and half of pixel 1.
        // Pixels white, black, black: cell 0 = (1 + 0.5*0)/1.5 = 0.667 -> 1, cell 1 = 0 -> 0.
        Tensor r = Images.maskToLatentMask(rgb(3, 1, new int[] {0xFFFFFF, 0, 0}), 1, 2);
        assertArrayEquals(new float[] {1f, 0f}, r.floats(), 0f);
    }
}
