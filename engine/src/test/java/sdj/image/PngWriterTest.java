package sdj.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Node;

class PngWriterTest {
    private static final String PARAMS = "a photo of a cat\nSteps: 20, Sampler: DDIM, CFG scale: 7.5, Seed: 42";

    @TempDir
    Path dir;

    /** Random pixels plus smooth gradients, so every PNG filter type gets chosen somewhere. */
    private static int[] pixels(int w, int h, long seed) {
        Random r = new Random(seed);
        int[] p = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                p[y * w + x] = y < h / 2 ? r.nextInt(1 << 24) : (x * 7 & 0xFF) << 16 | (y * 5 & 0xFF) << 8 | (x + y) & 0xFF;
            }
        }
        return p;
    }

    @Test
    void imageIoDecodesIdenticalPixels() throws Exception {
        for (int[] size : new int[][] {{1, 1}, {3, 2}, {17, 9}, {64, 64}, {5, 40}}) {
            int w = size[0];
            int h = size[1];
            int[] px = pixels(w, h, w * 31L + h);
            Path f = dir.resolve("img" + w + "x" + h + ".png");
            PngWriter.write(f, px, w, h, Map.of("parameters", PARAMS));
            BufferedImage back = ImageIO.read(f.toFile());
            assertEquals(w, back.getWidth());
            assertEquals(h, back.getHeight());
            int[] got = back.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < got.length; i++) {
                assertEquals(px[i], got[i] & 0xFFFFFF, "pixel " + i + " of " + w + "x" + h);
            }
        }
    }

    @Test
    void bufferedImageOverloadDropsAlpha() throws Exception {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00112233); // fully transparent: colour kept, alpha ignored
        argb.setRGB(1, 0, 0x80FFEEDD);
        Path f = dir.resolve("a.png");
        PngWriter.write(f, argb, Map.of());
        BufferedImage back = ImageIO.read(f.toFile());
        assertEquals(0x112233, back.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(0xFFEEDD, back.getRGB(1, 0) & 0xFFFFFF);
        assertEquals(3, back.getColorModel().getNumComponents(), "RGB, no alpha channel");
    }

    @Test
    void byteLayoutMatchesTheSpecByHand() {
        byte[] png = PngWriter.encode(new int[] {0xFF0000, 0x00FF00}, 2, 1, Map.of("parameters", "hi"));
        // Signature.
        assertArrayEquals(new byte[] {(byte) 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A}, Arrays.copyOf(png, 8));
        // IHDR: length 13, type, width 2, height 1, depth 8, colour type 2, compression/filter/interlace 0.
        byte[] ihdr = {0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0};
        assertArrayEquals(ihdr, Arrays.copyOfRange(png, 8, 29));
        assertEquals(crc(Arrays.copyOfRange(ihdr, 4, 21)), ByteBuffer.wrap(png, 29, 4).getInt());
        // tEXt right after IHDR: length 13 = "parameters" (10) + NUL + "hi" (2).
        byte[] text = {0, 0, 0, 13, 't', 'E', 'X', 't', 'p', 'a', 'r', 'a', 'm', 'e', 't', 'e', 'r', 's', 0, 'h', 'i'};
        assertArrayEquals(text, Arrays.copyOfRange(png, 33, 54));
        assertEquals(crc(Arrays.copyOfRange(text, 4, 21)), ByteBuffer.wrap(png, 54, 4).getInt());
        // Then IDAT, and the file ends with the fixed 12-byte IEND chunk.
        assertArrayEquals("IDAT".getBytes(StandardCharsets.US_ASCII), Arrays.copyOfRange(png, 62, 66));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82},
                Arrays.copyOfRange(png, png.length - 12, png.length));
    }

    private static int crc(byte[] typeAndData) {
        CRC32 c = new CRC32();
        c.update(typeAndData);
        return (int) c.getValue();
    }

    @Test
    void textReadBackByOurReaderAndByImageIoMetadata() throws Exception {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("parameters", PARAMS);
        text.put("Comment", "caf\u00e9 \u00a9 Latin-1 stays tEXt");
        text.put("Title", "\u732b\u306e\u5199\u771f \uD83D\uDC31"); // needs UTF-8, so iTXt
        Path f = dir.resolve("t.png");
        PngWriter.write(f, pixels(4, 4, 1), 4, 4, text);

        assertEquals(text, PngText.read(f));
        assertEquals(new LinkedHashMap<>(text).keySet().stream().toList(), PngText.read(f).keySet().stream().toList());

        Map<String, String> seen = imageIoText(Files.readAllBytes(f));
        assertEquals(PARAMS, seen.get("tEXt:parameters"));
        assertEquals(text.get("Comment"), seen.get("tEXt:Comment"));
        assertEquals(text.get("Title"), seen.get("iTXt:Title"));
    }

    /** Text chunks as ImageIO's own PNG reader sees them (an independent parser), keyed "type:keyword". */
    private static Map<String, String> imageIoText(byte[] png) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            ImageReader reader = ImageIO.getImageReaders(in).next();
            reader.setInput(in);
            IIOMetadata meta = reader.getImageMetadata(0);
            Node root = meta.getAsTree("javax_imageio_png_1.0");
            for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                for (Node e = n.getFirstChild(); e != null; e = e.getNextSibling()) {
                    if (e.getNodeName().equals("tEXtEntry") || e.getNodeName().equals("iTXtEntry")) {
                        String type = e.getNodeName().substring(0, 4);
                        String key = e.getAttributes().getNamedItem("keyword").getNodeValue();
                        String value = e.getAttributes().getNamedItem(type.equals("tEXt") ? "value" : "text").getNodeValue();
                        out.put(type + ":" + key, value);
                    }
                }
            }
            reader.dispose();
        }
        return out;
    }

    @Test
    void sameInputGivesIdenticalBytes() throws Exception {
        int[] px = pixels(33, 21, 7);
        Path a = dir.resolve("a.png");
        Path b = dir.resolve("b.png");
        PngWriter.write(a, px, 33, 21, Map.of("parameters", PARAMS));
        PngWriter.write(b, px.clone(), 33, 21, Map.of("parameters", PARAMS));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertArrayEquals(Files.readAllBytes(a), PngWriter.encode(px, 33, 21, Map.of("parameters", PARAMS)));
    }

    @Test
    void overwritesAtomicallyWithoutLeavingTempFiles() throws Exception {
        Path f = dir.resolve("sub/out.png");
        PngWriter.write(f, pixels(2, 2, 1), 2, 2, Map.of("parameters", "first"));
        PngWriter.write(f, pixels(2, 2, 2), 2, 2, Map.of("parameters", "second"));
        assertEquals("second", PngText.read(f).get("parameters"));
        try (Stream<Path> s = Files.list(f.getParent())) {
            assertEquals(1, s.count(), "only out.png remains");
        }
    }

    @Test
    void rejectsBadKeywordsAndSizes() {
        int[] px = {0};
        assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(px, 1, 1, Map.of("", "x")));
        assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(px, 1, 1, Map.of(" lead", "x")));
        assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(px, 1, 1, Map.of("k".repeat(80), "x")));
        assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(px, 1, 1, Map.of("\u732b", "x")));
        var e = assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(px, 2, 1, Map.of()));
        assertTrue(e.getMessage().contains("2x1"), e.getMessage());
    }
}
