package sdj.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads the text metadata of a PNG ({@code tEXt}, {@code zTXt} and {@code iTXt} chunks) in file
 * order, e.g. AUTOMATIC1111's {@code parameters}. Every chunk's length and CRC is checked, so a
 * damaged file is reported rather than half-read; a repeated keyword keeps its last value, as PIL does.
 */
public final class PngText {
    private PngText() {
    }

    public static Map<String, String> read(Path file) throws IOException {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException("PNG file " + file + " does not exist.", e);
        }
        return parse(b, file.toString());
    }

    /** Parses PNG bytes; {@code name} only labels error messages. */
    static Map<String, String> parse(byte[] b, String name) throws IOException {
        if (b.length < 8 || !Arrays.equals(b, 0, 8, PngChunks.SIGNATURE, 0, 8)) {
            throw new IOException(name + " is not a PNG file (its first 8 bytes are not the PNG signature).");
        }
        Map<String, String> text = new LinkedHashMap<>();
        int at = 8;
        boolean first = true;
        while (true) {
            if (b.length - at < 12) {
                throw new IOException(name + " is truncated: it ends at byte " + b.length + " before an IEND chunk.");
            }
            long len = PngChunks.readInt(b, at) & 0xFFFFFFFFL;
            String type = new String(b, at + 4, 4, StandardCharsets.ISO_8859_1);
            if (len > Integer.MAX_VALUE || len > b.length - at - 12L) {
                throw new IOException(name + ": chunk " + printable(type) + " at byte " + at + " claims " + len
                        + " bytes of data but only " + Math.max(0, b.length - at - 12) + " remain in the file.");
            }
            int dataAt = at + 8;
            int n = (int) len;
            long stored = PngChunks.readInt(b, dataAt + n) & 0xFFFFFFFFL;
            long actual = PngChunks.crc(Arrays.copyOfRange(b, at + 4, at + 8), b, dataAt, n);
            if (stored != actual) {
                throw new IOException(name + ": chunk " + printable(type) + " at byte " + at + " has CRC "
                        + String.format("%08x", stored) + " but its contents give " + String.format("%08x", actual)
                        + ", so the file is corrupt.");
            }
            if (first && !type.equals("IHDR")) {
                throw new IOException(name + ": the first chunk is " + printable(type) + " instead of IHDR.");
            }
            first = false;
            byte[] data = Arrays.copyOfRange(b, dataAt, dataAt + n);
            switch (type) {
                case "tEXt" -> putText(text, data, name, type, false);
                case "zTXt" -> putText(text, data, name, type, true);
                case "iTXt" -> putInternational(text, data, name);
                case "IEND" -> {
                    return text;
                }
                default -> {
                }
            }
            at = dataAt + n + 4;
        }
    }

    /** tEXt: keyword NUL Latin-1 text; zTXt: keyword NUL method(0) zlib-data. */
    private static void putText(Map<String, String> text, byte[] d, String name, String type, boolean compressed)
            throws IOException {
        int nul = indexOf(d, 0, name, type, "keyword");
        String key = new String(d, 0, nul, StandardCharsets.ISO_8859_1);
        byte[] body = compressed ? inflate(d, nul + 2, name, type) : Arrays.copyOfRange(d, nul + 1, d.length);
        text.put(key, new String(body, StandardCharsets.ISO_8859_1));
    }

    /** iTXt: keyword NUL flag method language NUL translated-keyword NUL UTF-8 text. */
    private static void putInternational(Map<String, String> text, byte[] d, String name) throws IOException {
        int nul = indexOf(d, 0, name, "iTXt", "keyword");
        if (d.length < nul + 3) {
            throw new IOException(name + ": an iTXt chunk ends before its compression fields.");
        }
        boolean compressed = d[nul + 1] != 0;
        int lang = indexOf(d, nul + 3, name, "iTXt", "language tag");
        int translated = indexOf(d, lang + 1, name, "iTXt", "translated keyword");
        byte[] body = compressed ? inflate(d, translated + 1, name, "iTXt")
                : Arrays.copyOfRange(d, translated + 1, d.length);
        text.put(new String(d, 0, nul, StandardCharsets.ISO_8859_1), new String(body, StandardCharsets.UTF_8));
    }

    private static int indexOf(byte[] d, int from, String name, String type, String field) throws IOException {
        for (int i = from; i < d.length; i++) {
            if (d[i] == 0) {
                return i;
            }
        }
        throw new IOException(name + ": a " + type + " chunk has no NUL byte ending its " + field + ".");
    }

    private static byte[] inflate(byte[] d, int from, String name, String type) throws IOException {
        Inflater inf = new Inflater();
        try {
            inf.setInput(d, Math.min(from, d.length), Math.max(0, d.length - from));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inf.finished()) {
                int got = inf.inflate(buf);
                if (got == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new IOException(name + ": the compressed text of a " + type + " chunk is truncated.");
                }
                out.write(buf, 0, got);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IOException(name + ": the compressed text of a " + type + " chunk is not valid zlib data.", e);
        } finally {
            inf.end();
        }
    }

    private static String printable(String type) {
        return type.chars().allMatch(c -> c >= 'A' && c <= 'z') ? type : "with a garbled type";
    }
}
