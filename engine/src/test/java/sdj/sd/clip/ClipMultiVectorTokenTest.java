package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** An added token of n vectors (multi-vector textual inversion): one word, n consecutive ids. */
class ClipMultiVectorTokenTest {
    @Test
    void aThreeVectorTokenExpandsToThreeConsecutiveIds() throws IOException {
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        int[] a = tok.encode("a");
        int[] rest = tok.encode("on a mat");
        assertEquals(49408, tok.addToken("<cat-toy>", 3));
        assertEquals(49411, tok.addToken("<new1>"), "the next token starts after all three");
        assertEquals(49412, tok.vocabSize());
        int[] expected = IntStream.concat(IntStream.concat(IntStream.of(a), IntStream.of(49408, 49409, 49410)),
                IntStream.of(rest)).toArray();
        assertArrayEquals(expected, tok.encode("a <cat-toy> on a mat"));
        assertArrayEquals(new int[] {49411, 49408, 49409, 49410}, tok.encode("<new1><cat-toy>"));
        assertEquals("a <cat-toy> on a mat", tok.decode(expected), "shown once");
    }

    @Test
    void addingAgainNeedsTheSameVectorCount() throws IOException {
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        tok.addToken("<style>", 2);
        assertEquals(49408, tok.addToken("<STYLE>", 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.addToken("<style>", 4));
        assertTrue(e.getMessage().contains("already added with 2 vector(s)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.addToken("<x>", 0));
    }

    @Test
    void everyVectorCountsTowardsThe75TokenLimit() throws IOException {
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        tok.addToken("<big>", 74);
        Encoded77 fits = tok.encode77WithReport("a <big>");
        assertEquals(75, fits.promptTokens());
        assertEquals(49408 + 73, fits.ids()[75], "the last vector sits just before the end token");
        assertEquals(tok.endId(), fits.ids()[76]);
        assertTrue(fits.warning().isEmpty());
        assertTrue(tok.encode77WithReport("a a <big>").warning().isPresent(), "76 tokens: one is dropped");
    }
}
