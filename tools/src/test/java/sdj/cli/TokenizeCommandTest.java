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
    private record Result(int status, String out, String err) {
    }

    private static Result sdj(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Sdj.run(args);
            return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void printsTheReferenceIdsOnOneLine() throws Exception {
        Result r = sdj("tokenize", "--prompt", "a photo of a cat", "--vocab", ReferencePrompts.clipMerges().toString());
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
        Result r = sdj("tokenize", "--prompt", prompt, "--vocab", committed.toString());
        assertEquals(ReferencePrompts.idsOf(prompt), r.out().strip());
    }

    @Test
    void truncationWarningGoesToStderrWithTheCount() throws Exception {
        // "a photo of a cat" is 5 tokens, so 20 copies are 100: 25 dropped.
        String prompt = String.join(" ", Collections.nCopies(20, "a photo of a cat"));
        Result r = sdj("tokenize", "--prompt", prompt, "--vocab", ReferencePrompts.clipMerges().toString());
        assertEquals(0, r.status());
        assertEquals(77, r.out().strip().split(" ").length);
        assertTrue(r.err().contains("warning") && r.err().contains("last 25 tokens were dropped"), r.err());
    }

    @Test
    void missingPromptOrVocabularyIsOneSentence() {
        Result noPrompt = sdj("tokenize");
        assertEquals(1, noPrompt.status());
        assertTrue(noPrompt.err().contains("say what to tokenize"), noPrompt.err());
        Result badVocab = sdj("tokenize", "--prompt", "cat", "--vocab", "/nonexistent/vocab.json");
        assertEquals(1, badVocab.status());
        assertTrue(badVocab.err().contains("does not exist"), badVocab.err());
    }
}
