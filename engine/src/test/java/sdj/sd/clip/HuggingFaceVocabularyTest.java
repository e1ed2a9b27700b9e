package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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
        StringBuilder json = new StringBuilder("{");
        for (Map.Entry<String, Integer> e : clip.ids().entrySet()) {
            json.append(json.length() > 1 ? ",\n " : "").append(jsonString(e.getKey())).append(": ").append(e.getValue());
        }
        Files.writeString(dir.resolve("vocab.json"), json.append("}\n"), StandardCharsets.UTF_8);
        StringBuilder merges = new StringBuilder("#version: 0.2\n");
        for (String[] m : clip.merges()) {
            merges.append(m[0]).append(' ').append(m[1]).append('\n');
        }
        Files.writeString(dir.resolve("merges.txt"), merges, StandardCharsets.UTF_8);
    }

    /** JSON the way Python's json.dump writes it by default: non-ASCII as \\u escapes. */
    private static String jsonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7E) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
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
}
