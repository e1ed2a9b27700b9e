package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;

class TokenizeCommandTest {
    /** Exit status, stdout and stderr of one `sdj` run. */
    @Test
    void printsTheReferenceIdsOnOneLine() throws Exception {
        CliRun r = CliRun.sdj("tokenize", "--prompt", "a photo of a cat", "--vocab", ReferencePrompts.clipMerges().toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(ReferencePrompts.idsOf("a photo of a cat") + System.lineSeparator(), r.out());
        assertEquals("", r.err());
    }

    @Test
    void committedVocabularyCopyGivesTheSameIds() throws Exception {
        // Tests run in tools/, so the repository root is its parent.
        Path committed = ClipVocabLocator.locate(null, null, Path.of(".."));
        assertTrue(committed.endsWith(Path.of("models", "clip", ClipVocabLocator.FILE)), committed.toString());
        String prompt = "A Photograph of an astronaut riding a horse, 4k, trending on artstation!";
        CliRun r = CliRun.sdj("tokenize", "--prompt", prompt, "--vocab", committed.toString());
        assertEquals(ReferencePrompts.idsOf(prompt), r.out().strip());
    }

    @Test
    void truncationWarningGoesToStderrWithTheCount() throws Exception {
        // "a photo of a cat" is 5 tokens, so 20 copies are 100: 25 dropped.
        String prompt = String.join(" ", Collections.nCopies(20, "a photo of a cat"));
        CliRun r = CliRun.sdj("tokenize", "--prompt", prompt, "--vocab", ReferencePrompts.clipMerges().toString());
        assertEquals(0, r.status());
        assertEquals(77, r.out().strip().split(" ").length);
        assertTrue(r.err().contains("warning") && r.err().contains("last 25 tokens were dropped"), r.err());
    }

    @Test
    void missingPromptOrVocabularyIsOneSentence() {
        CliRun noPrompt = CliRun.sdj("tokenize");
        assertEquals(1, noPrompt.status());
        assertTrue(noPrompt.err().contains("say what to tokenize"), noPrompt.err());
        CliRun badVocab = CliRun.sdj("tokenize", "--prompt", "cat", "--vocab", "/nonexistent/vocab.json");
        assertEquals(1, badVocab.status());
        assertTrue(badVocab.err().contains("does not exist"), badVocab.err());
    }
}
