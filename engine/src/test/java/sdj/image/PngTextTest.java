package sdj.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngTextTest {
    @TempDir
    Path dir;

    private Path written(Map<String, String> text) throws IOException {
        Path f = dir.resolve("in.png");
        PngWriter.write(f, new int[] {0x102030, 0x405060}, 2, 1, text);
        return f;
    }

    private static String message(Path f) {
        return assertThrows(IOException.class, () -> PngText.read(f)).getMessage();
    }

    @Test
    void corruptedCrcIsReportedWithChunkAndFile() throws Exception {
        Path f = written(Map.of("parameters", "Steps: 20"));
        byte[] b = Files.readAllBytes(f);
        b[33 + 8 + 3] ^= 1; // a byte inside the tEXt data (tEXt chunk starts at byte 33)
        Files.write(f, b);
        String m = message(f);
        assertTrue(m.contains("tEXt") && m.contains("CRC") && m.contains(f.toString()) && m.contains("corrupt"), m);
    }

    @Test
    void lengthPastEndOfFileIsReported() throws Exception {
        Path f = written(Map.of("parameters", "x"));
        byte[] b = Files.readAllBytes(f);
        ByteBuffer.wrap(b).putInt(33, 1_000_000); // tEXt length
        Files.write(f, b);
        String m = message(f);
        assertTrue(m.contains("claims 1000000 bytes"), m);
    }

    @Test
    void truncatedAndNonPngFilesAreReported() throws Exception {
        Path f = written(Map.of("parameters", "x"));
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length - 12)); // drop IEND
        assertTrue(message(f).contains("truncated"), message(f));
        Files.writeString(f, "GIF89a not a png");
        assertTrue(message(f).contains("not a PNG"), message(f));
        assertTrue(message(dir.resolve("missing.png")).contains("does not exist"));
    }

    @Test
    void pngWithoutTextFromImageIoGivesEmptyMap() throws Exception {
        Path f = dir.resolve("plain.png");
        ImageIO.write(new BufferedImage(3, 3, BufferedImage.TYPE_INT_RGB), "png", f.toFile());
        assertEquals(Map.of(), PngText.read(f));
    }

    @Test
    void handBuiltZtxtAndCompressedItxtAreRead() throws Exception {
        String longText = "long text ".repeat(50);
        byte[] z = concat("parameters".getBytes(StandardCharsets.ISO_8859_1), new byte[] {0, 0},
                zlib(longText.getBytes(StandardCharsets.ISO_8859_1)));
        byte[] i = concat("Title".getBytes(StandardCharsets.ISO_8859_1), new byte[] {0, 1, 0},
                "ja".getBytes(StandardCharsets.US_ASCII), new byte[] {0},
                "\u984c".getBytes(StandardCharsets.UTF_8), new byte[] {0},
                zlib("\u732b".getBytes(StandardCharsets.UTF_8)));
        assertEquals(Map.of("parameters", longText, "Title", "\u732b"), PngText.parse(png("zTXt", z, "iTXt", i), "x"));
    }

    @Test
    void repeatedKeywordKeepsTheLastValue() throws Exception {
        byte[] b = png("tEXt", "parameters\0first".getBytes(StandardCharsets.ISO_8859_1),
                "tEXt", "parameters\0later".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(Map.of("parameters", "later"), PngText.parse(b, "x"));
    }

    @Test
    void zTxtWithCorruptZlibIsReported() {
        byte[] b = png("zTXt", concat("k".getBytes(StandardCharsets.US_ASCII), new byte[] {0, 0, 1, 2, 3, 4}));
        IOException e = assertThrows(IOException.class, () -> PngText.parse(b, "z.png"));
        assertTrue(e.getMessage().startsWith("z.png") && e.getMessage().contains("zTXt"), e.getMessage());
    }

    /** Signature, a 1x1 RGB IHDR, the given (type, data) chunks, IEND: all framed by hand. */
    private static byte[] png(Object... typeThenData) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(1).putInt(1).put((byte) 8).put((byte) 2).array());
        for (int k = 0; k < typeThenData.length; k += 2) {
            chunk(out, (String) typeThenData[k], (byte[]) typeThenData[k + 1]);
        }
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static byte[] zlib(byte[] raw) {
        Deflater d = new Deflater();
        d.setInput(raw);
        d.finish();
        byte[] buf = new byte[raw.length + 64];
        int n = d.deflate(buf);
        d.end();
        return Arrays.copyOf(buf, n);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }
}
