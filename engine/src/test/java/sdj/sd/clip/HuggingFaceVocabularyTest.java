package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A vocab.json + merges.txt pair written from the CLIP merges file must tokenize identically. */
class HuggingFaceVocabularyTest {
    @TempDir
    static Path dir;
    private static PromptsFixture reference;

    @BeforeAll
    static void writeHuggingFaceFiles() throws IOException {
        reference = PromptsFixture.load();
        BpeVocabulary clip = BpeVocabulary.fromClipMerges(SharedTestData.clipMerges());
        // As Python's json.dump writes it by default: every non-ASCII character escaped.
        ObjectMapper pythonStyle = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
        Files.writeString(dir.resolve("vocab.json"), pythonStyle.writeValueAsString(clip.ids()), StandardCharsets.UTF_8);
        StringBuilder merges = new StringBuilder("#version: 0.2\n");
        for (String[] m : clip.merges()) {
            merges.append(m[0]).append(' ').append(m[1]).append('\n');
        }
        Files.writeString(dir.resolve("merges.txt"), merges, StandardCharsets.UTF_8);
    }

    @Test
    void pairTokenizesEveryReferencePromptLikeClip() throws IOException {
        for (Path form : new Path[] {dir, dir.resolve("vocab.json"), dir.resolve("merges.txt")}) {
            ClipTokenizer tok = ClipTokenizer.load(form);
            assertEquals(49408, tok.vocabSize());
            for (int i = 0; i < reference.prompts().size(); i++) {
                assertArrayEquals(reference.ids().get(i), tok.encode77WithReport(reference.prompts().get(i)).ids(),
                        form + ": '" + reference.prompts().get(i) + "'");
            }
        }
    }

    @Test
    void missingOrForeignFilesGiveClearErrors() throws IOException {
        assertThrows(java.nio.file.NoSuchFileException.class, () -> ClipTokenizer.load(dir.resolve("nothing.gz")));
        Path other = Files.writeString(dir.resolve("notes.txt"), "hello");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(other));
        assertEquals(true, e.getMessage().contains("vocab.json"), e.getMessage());
    }

    @Test
    void malformedVocabJsonIsRefusedNamingTheFileAndTheProblem() throws IOException {
        Path bad = Files.createDirectories(dir.resolve("bad"));
        Path merges = Files.writeString(bad.resolve("merges.txt"), "#version: 0.2\n");
        Path vocab = bad.resolve("vocab.json");
        String[][] cases = {
            {"{\"a\": 1,", "unexpected end-of-input"},
            {"{\"a\": 1, \"a\": 2}", "duplicate field 'a'"},
            {"[\"a\", 1]", "expected a JSON object"},
            {"{\"a\": 1.5}", "the id of token 'a' is 1.5, not a whole number"},
            {"{\"a\": -1}", "the id of token 'a' is -1, not a whole number"},
            {"{\"a\": \"1\"}", "the id of token 'a' is \"1\", not a whole number"},
        };
        for (String[] c : cases) {
            Files.writeString(vocab, c[0]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BpeVocabulary.fromHuggingFace(vocab, merges), c[0]);
            assertTrue(e.getMessage().startsWith(vocab + " is not a token-to-id JSON object: "), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }
}
