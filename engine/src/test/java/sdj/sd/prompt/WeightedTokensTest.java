package sdj.sd.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.clip.PromptsFixture;
import sdj.sd.clip.SharedTestData;

/**
 * Chunking per A1111's tokenize_line. Token ids are those prompts.json gives these words:
 * a 320, photo 1125, cat 2368, very 1070, comma 267.
 */
class WeightedTokensTest {
    private static final int START = 49406;
    private static final int END = 49407;
    private static final int A = 320;
    private static final int PHOTO = 1125;
    private static final int CAT = 2368;
    private static final int VERY = 1070;
    private static final int COMMA = 267;
    private static ClipTokenizer tokenizer;
    private static PromptsFixture reference;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = ClipTokenizer.load(SharedTestData.clipMerges());
        reference = PromptsFixture.load();
    }

    /** A 77-id chunk: start, {@code body}, end padding. */
    private static int[] chunk(int... body) {
        int[] ids = new int[77];
        Arrays.fill(ids, END);
        ids[0] = START;
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    private static int[] repeat(int id, int times) {
        int[] out = new int[times];
        Arrays.fill(out, id);
        return out;
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    private static String words(String word, int times) {
        return String.join(" ", Collections.nCopies(times, word));
    }

    @Test
    void shortPromptIsOneChunkWithEmphasisWeights() {
        WeightedTokens wt = WeightedTokens.of("a (photo) of a [cat]", tokenizer);
        assertEquals(1, wt.chunks().size());
        assertEquals(5, wt.tokenCount());
        assertArrayEquals(chunk(A, PHOTO, 539, A, CAT), wt.chunks().get(0).ids());
        float[] weights = new float[77];
        Arrays.fill(weights, 1f);
        weights[2] = (float) 1.1;
        weights[5] = (float) (1 / 1.1);
        assertArrayEquals(weights, wt.chunks().get(0).weights());
    }

    @Test
    void loraTagsAreNotTokenized() {
        WeightedTokens wt = WeightedTokens.of("a <lora:sks_cat:0.7>photo of a <lora:style>cat", tokenizer);
        assertEquals(5, wt.tokenCount());
        assertArrayEquals(chunk(A, PHOTO, 539, A, CAT), wt.chunks().get(0).ids());
    }

    @Test
    void emptyPromptIsTheReferenceEmptyChunk() {
        WeightedTokens wt = WeightedTokens.of("", tokenizer);
        assertEquals(1, wt.chunks().size());
        assertEquals(0, wt.tokenCount());
        assertArrayEquals(reference.idsOf(""), wt.chunks().get(0).ids());
    }

    @Test
    void longPromptWithoutCommasSplitsAt75() {
        WeightedTokens wt = WeightedTokens.of(words("very", 80), tokenizer);
        assertEquals(2, wt.chunks().size());
        assertEquals(80, wt.tokenCount());
        assertArrayEquals(chunk(repeat(VERY, 75)), wt.chunks().get(0).ids());
        assertArrayEquals(chunk(repeat(VERY, 5)), wt.chunks().get(1).ids());
    }

    @Test
    void chunkBreaksAfterACommaWithinTheLast20Tokens() {
        // 70 x very, comma, 10 x cat: the 76th token finds the comma 5 back, so the 4 cats after it move on.
        WeightedTokens wt = WeightedTokens.of(words("very", 70) + ", " + words("cat", 10), tokenizer);
        assertEquals(2, wt.chunks().size());
        assertArrayEquals(chunk(concat(repeat(VERY, 70), new int[] {COMMA})), wt.chunks().get(0).ids());
        assertArrayEquals(chunk(repeat(CAT, 10)), wt.chunks().get(1).ids());
        assertEquals(75 + 10, wt.tokenCount());
    }

    @Test
    void commaMoreThan20TokensBackDoesNotMoveTheBreak() {
        WeightedTokens wt = WeightedTokens.of(words("very", 50) + ", " + words("cat", 30), tokenizer);
        assertArrayEquals(chunk(concat(repeat(VERY, 50), new int[] {COMMA}, repeat(CAT, 24))), wt.chunks().get(0).ids());
        assertArrayEquals(chunk(repeat(CAT, 6)), wt.chunks().get(1).ids());
    }

    @Test
    void movedTokensKeepTheirWeights() {
        WeightedTokens wt = WeightedTokens.of(words("very", 70) + ", (" + words("cat", 10) + ":1.5)", tokenizer);
        float[] second = wt.chunks().get(1).weights();
        for (int i = 1; i <= 10; i++) {
            assertEquals(1.5f, second[i], "cat " + i);
        }
        assertEquals(1f, second[11]);
        assertEquals(1f, wt.chunks().get(0).weights()[71], "the comma stays at weight 1");
    }

    @Test
    void breakStartsANewChunk() {
        WeightedTokens wt = WeightedTokens.of("a photo BREAK a cat", tokenizer);
        assertEquals(2, wt.chunks().size());
        assertArrayEquals(chunk(A, PHOTO), wt.chunks().get(0).ids());
        assertArrayEquals(chunk(A, CAT), wt.chunks().get(1).ids());
        assertEquals(75 + 2, wt.tokenCount());
    }

    @Test
    void padToAddsEmptyChunks() {
        WeightedTokens padded = WeightedTokens.of("a photo of a cat", tokenizer).padTo(3, tokenizer);
        assertEquals(3, padded.chunks().size());
        assertArrayEquals(reference.idsOf("a photo of a cat"), padded.chunks().get(0).ids());
        assertArrayEquals(reference.idsOf(""), padded.chunks().get(2).ids());
    }

    @Test
    void applyWeightsScalesRowsAndKeepsTheMean() {
        int tokens = 77;
        int width = 16;
        Random rnd = new Random(7);
        float[] hidden = new float[tokens * width];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) (rnd.nextGaussian() + 0.3);
        }
        float[] weights = new float[tokens];
        for (int t = 0; t < tokens; t++) {
            weights[t] = 0.5f + rnd.nextFloat();
        }
        float[] original = hidden.clone();
        WeightedTokens.applyWeights(hidden, tokens, width, weights);

        assertEquals(mean(original), mean(hidden), 1e-5 * Math.abs(mean(original)));
        // Every value is original * weight of its row * one common factor.
        double common = hidden[0] / (original[0] * weights[0]);
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < width; i++) {
                int k = t * width + i;
                assertEquals(original[k] * weights[t] * common, hidden[k], 1e-4 * Math.abs(original[k]) + 1e-6);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> WeightedTokens.applyWeights(hidden, tokens, width, new float[3]));
    }

    @Test
    void unitWeightsLeaveHiddenStatesAlone() {
        float[] hidden = {1, 2, 3, 4, 5, 6};
        float[] ones = {1, 1, 1};
        WeightedTokens.applyWeights(hidden, 3, 2, ones);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, hidden);
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }
}
