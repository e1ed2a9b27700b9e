package sdj.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.Deflater;
import sdj.io.AtomicFile;

/**
 * Encodes 8-bit RGB PNGs (colour type 2, no interlace) with text metadata, the way AUTOMATIC1111
 * stores generation parameters: a {@code tEXt} chunk with keyword {@code parameters}.
 *
 * <p>Text chunks come right after IHDR (before IDAT) in the map's iteration order, so readers that
 * stop at the image data still see them. A value that is all Latin-1 goes in {@code tEXt}; anything
 * else in an uncompressed UTF-8 {@code iTXt}. Output is a pure function of pixels, text and the
 * JVM's zlib: the same input gives the same bytes (no timestamps, deterministic filter choice).
 */
public final class PngWriter {
    private PngWriter() {
    }

    /** Writes {@code image} (alpha dropped) atomically to {@code target}. */
    public static void write(Path target, BufferedImage image, Map<String, String> text) throws IOException {
        write(target, RgbPixels.of(image), image.getWidth(), image.getHeight(), text);
    }

    /** Writes packed {@code 0xRRGGBB} pixels (row-major, high byte ignored) atomically to {@code target}. */
    public static void write(Path target, int[] rgb, int width, int height, Map<String, String> text)
            throws IOException {
        AtomicFile.write(target, encode(rgb, width, height, text));
    }

    /** The complete PNG file for packed {@code 0xRRGGBB} pixels. */
    public static byte[] encode(int[] rgb, int width, int height, Map<String, String> text) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("PNG size must be positive, got " + width + "x" + height);
        }
        if (rgb.length != (long) width * height) {
            throw new IllegalArgumentException(rgb.length + " pixels do not fill a " + width + "x" + height + " image");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PngChunks.SIGNATURE);
        PngChunks.write(out, "IHDR", ihdr(width, height));
        for (Map.Entry<String, String> e : text.entrySet()) {
            String value = e.getValue();
            boolean latin1 = value.chars().allMatch(c -> c != 0 && c <= 0xFF);
            PngChunks.write(out, latin1 ? "tEXt" : "iTXt",
                    latin1 ? tEXt(e.getKey(), value) : iTXt(e.getKey(), value));
        }
        PngChunks.write(out, "IDAT", deflate(PngFilter.filterRows(rgb, width, height)));
        PngChunks.write(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static byte[] ihdr(int width, int height) {
        return ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8)   // bit depth
                .put((byte) 2)   // colour type: truecolour RGB
                .put((byte) 0)   // compression: deflate
                .put((byte) 0)   // filter method: adaptive
                .put((byte) 0)   // no interlace
                .array();
    }

    private static byte[] tEXt(String keyword, String text) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(keyword(keyword));
        b.write(0);
        b.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
        return b.toByteArray();
    }

    private static byte[] iTXt(String keyword, String text) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(keyword(keyword));
        b.write(0);
        b.write(0); // compression flag: uncompressed
        b.write(0); // compression method
        b.write(0); // empty language tag
        b.write(0); // empty translated keyword
        b.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        return b.toByteArray();
    }

    /** PNG keywords: 1–79 printable Latin-1 characters, no leading, trailing or double spaces. */
    private static byte[] keyword(String k) {
        boolean printable = k.chars().allMatch(c -> (c >= 32 && c <= 126) || (c >= 161 && c <= 255));
        if (k.isEmpty() || k.length() > 79 || !printable || k.startsWith(" ") || k.endsWith(" ") || k.contains("  ")) {
            throw new IllegalArgumentException("PNG text keyword \"" + k
                    + "\" must be 1-79 printable Latin-1 characters without leading, trailing or double spaces");
        }
        return k.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] deflate(byte[] raw) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION);
        try {
            d.setInput(raw);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 2 + 64);
            byte[] buf = new byte[64 * 1024];
            while (!d.finished()) {
                out.write(buf, 0, d.deflate(buf));
            }
            return out.toByteArray();
        } finally {
            d.end();
        }
    }
}
