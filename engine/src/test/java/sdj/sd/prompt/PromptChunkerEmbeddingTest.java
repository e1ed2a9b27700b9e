package sdj.sd.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.clip.SharedTestData;

/** A multi-vector embedding that does not fit in the rest of a 75-token window moves whole to the next one (A1111). */
class PromptChunkerEmbeddingTest {
    @Test
    void aTenVectorTokenIsNotSplitAcrossWindows() throws IOException {
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        int cat = tok.encode("cat")[0];
        int first = tok.addToken("<big>", 10);
        assertEquals(10, tok.vectorsAt(first));
        assertEquals(1, tok.vectorsAt(first + 1));
        assertEquals(1, tok.vectorsAt(cat));
        String prompt = String.join(" ", java.util.Collections.nCopies(70, "cat")) + " <big>";
        WeightedTokens w = WeightedTokens.of(prompt, tok);
        assertEquals(2, w.chunks().size());
        int[] one = w.chunks().get(0).ids();
        assertEquals(cat, one[70]);
        assertEquals(tok.endId(), one[71], "the window ends after the 70 words");
        int[] two = w.chunks().get(1).ids();
        assertArrayEquals(IntStream.range(first, first + 10).toArray(), Arrays.copyOfRange(two, 1, 11));
        assertEquals(75 + 10, w.tokenCount());

        // a single-id added token still fills the window to 75
        int small = tok.addToken("<one>");
        WeightedTokens fill = WeightedTokens.of(String.join(" ", java.util.Collections.nCopies(74, "cat")) + " <one> cat",
                tok);
        assertEquals(small, fill.chunks().get(0).ids()[75]);
    }
}
