package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Expected ids come from prompts.json, made by OpenAI CLIP's own tokenizer. */
class ClipTokenizerTest {
    private static ClipTokenizer tokenizer;
    private static PromptsFixture reference;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = ClipTokenizer.load(SharedTestData.clipMerges());
        reference = PromptsFixture.load();
    }

    private static ClipTokenizer freshTokenizer() throws IOException {
        return ClipTokenizer.load(SharedTestData.clipMerges());
    }

    /** The prompt's reference ids without start token and padding. */
    private static int[] referenceBody(String prompt) {
        int[] ids = reference.idsOf(prompt);
        int end = 1;
        while (end < ids.length && ids[end] != 49407) {
            end++;
        }
        return Arrays.copyOfRange(ids, 1, end);
    }

    @Test
    void everyReferencePromptEncodesToItsIds() {
        assertEquals(8, reference.prompts().size());
        for (int i = 0; i < reference.prompts().size(); i++) {
            String prompt = reference.prompts().get(i);
            assertArrayEquals(reference.ids().get(i), tokenizer.encode77(prompt), "prompt '" + prompt + "'");
        }
    }

    @Test
    void vocabularyMatchesClip() {
        assertEquals(49408, tokenizer.vocabSize());
        assertEquals(49406, tokenizer.startId());
        assertEquals(49407, tokenizer.endId());
    }

    @Test
    void encodeGivesBareIds() {
        assertArrayEquals(new int[] {320, 1125, 539, 320, 2368}, tokenizer.encode("a photo of a cat"));
        assertArrayEquals(referenceBody("a man in a graphic tee and sport coat."),
                tokenizer.encode("a man in a graphic tee and sport coat."));
        assertEquals(0, tokenizer.encode("   ").length);
    }

    @Test
    void cleaningUnescapesHtmlCollapsesSpaceAndLowersCase() {
        int[] expected = referenceBody("a photo of a cat");
        assertArrayEquals(expected, tokenizer.encode("  A PHOTO&#32;of\t\na&nbsp;Cat "));
        assertArrayEquals(expected, tokenizer.encode("a photo of a&amp;nbsp;cat"), "unescaped twice, as CLIP does");
    }

    @Test
    void overLongPromptIsCutTo75TokensWithACountedWarning() {
        // "a photo of a cat" is five tokens per the reference, so twenty copies are 100 tokens.
        String prompt = String.join(" ", java.util.Collections.nCopies(20, "a photo of a cat"));
        Encoded77 encoded = tokenizer.encode77WithReport(prompt);
        assertEquals(100, encoded.promptTokens());
        assertEquals(25, encoded.droppedTokens());
        assertTrue(encoded.warning().orElseThrow().contains("last 25 tokens were dropped"), encoded.warning().get());
        int[] fiveTokens = referenceBody("a photo of a cat");
        assertEquals(49406, encoded.ids()[0]);
        for (int i = 0; i < 75; i++) {
            assertEquals(fiveTokens[i % 5], encoded.ids()[1 + i]);
        }
        assertEquals(49407, encoded.ids()[76]);
    }

    @Test
    void promptOfExactly75TokensHasNoWarning() {
        String prompt = String.join(" ", java.util.Collections.nCopies(15, "a photo of a cat"));
        Encoded77 encoded = tokenizer.encode77WithReport(prompt);
        assertEquals(0, encoded.droppedTokens());
        assertFalse(encoded.warning().isPresent());
        assertEquals(49407, encoded.ids()[76]);
    }

    @Test
    void addedTokensTakeIdsAfterTheVocabularyAndStayWhole() throws IOException {
        ClipTokenizer tok = freshTokenizer();
        assertEquals(49408, tok.addToken("<new1>"));
        assertEquals(49409, tok.addToken("<new2>"));
        assertEquals(49408, tok.addToken("<NEW1>"), "adding again, in any case, returns the first id");
        assertEquals(49410, tok.vocabSize());
        // Reference without added tokens: "photo of a <new1> cat" -> photo of a < new 1 > cat.
        int[] plain = referenceBody("photo of a <new1> cat");
        assertArrayEquals(new int[] {1125, 539, 320, 283, 686, 272, 285, 2368}, plain);
        assertArrayEquals(new int[] {1125, 539, 320, 49408, 2368}, tok.encode("photo of a <new1> cat"));
        assertArrayEquals(new int[] {1125, 539, 320, 49408, 2368}, tok.encode("Photo of a <NEW1> cat"));
        assertArrayEquals(new int[] {1125, 267, 49409, 49408}, tok.encode("photo,<new2><new1>"),
                "found before the word split, even glued to punctuation");
    }

    @Test
    void addedWordTokensMatchOnlyWholeWords() throws IOException {
        ClipTokenizer tok = freshTokenizer();
        int sks = tok.addToken("sks");
        int[] dog = referenceBody("sks dog   in a bucket");
        assertArrayEquals(new int[] {sks, dog[1], dog[2], dog[3], dog[4]}, tok.encode("sks dog in a bucket"));
        assertFalse(Arrays.stream(tok.encode("tasks")).anyMatch(id -> id == sks));
        assertThrows(IllegalArgumentException.class, () -> tok.addToken("  "));
    }

    @Test
    void decodeReadsIdsBack() throws IOException {
        assertEquals("a photo of a cat", tokenizer.decode(referenceBody("a photo of a cat")));
        assertEquals("a photograph of an astronaut riding a horse , 4 k , trending on artstation !",
                tokenizer.decode(referenceBody("A Photograph of an astronaut riding a horse, 4k, trending on artstation!")));
        ClipTokenizer tok = freshTokenizer();
        int id = tok.addToken("<new1>");
        assertEquals("<new1> cat", tok.decode(new int[] {id, 2368}));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {49408}));
    }

    @Test
    void nonAsciiTextRoundTripsThroughByteLevelBpe() {
        String text = "café 東京 🙂";
        assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
    }
}
