package sdj.sd.clip;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * CLIP's reversible byte-to-character mapping ({@code bytes_to_unicode}): BPE runs on text where
 * every UTF-8 byte is one visible character, so no byte is ever unknown and no merge spans
 * whitespace or control characters. Printable Latin-1 bytes stand for themselves; the other 68
 * bytes take the characters U+0100 upward, in byte order.
 */
final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];
    /** The 256 characters in the order CLIP numbers them: the printable bytes, then the rest. */
    private static final char[] VOCAB_ORDER = new char[256];

    static {
        int shifted = 0;
        int position = 0;
        for (int b = 0; b < 256; b++) {
            if (isPrintable(b)) {
                BYTE_TO_CHAR[b] = (char) b;
                VOCAB_ORDER[position++] = (char) b;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!isPrintable(b)) {
                BYTE_TO_CHAR[b] = (char) (256 + shifted++);
                VOCAB_ORDER[position++] = BYTE_TO_CHAR[b];
            }
        }
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    private static boolean isPrintable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /** The alphabet character at vocabulary position {@code index} (0..255). */
    static char charInVocabOrder(int index) {
        return VOCAB_ORDER[index];
    }

    /** Text as one alphabet character per UTF-8 byte. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }

    /** Appends the bytes that alphabet text stands for; characters outside the alphabet are UTF-8 encoded as is. */
    static void decodeInto(String alphabetText, ByteArrayOutputStream out) {
        for (int i = 0; i < alphabetText.length(); i++) {
            char c = alphabetText.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
