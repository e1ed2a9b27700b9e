package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipVocabLocatorTest {
    @TempDir
    Path dir;

    private Path touch(String relative) throws IOException {
        Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        return Files.writeString(p, "x");
    }

    @Test
    void searchOrderIsFlagEnvRepositoryShared() throws IOException {
        Path root = dir.resolve("repo");
        Path shared = touch("shared/data/clip/" + ClipVocabLocator.FILE);
        assertEquals(shared.normalize(), ClipVocabLocator.locate(null, null, root));
        Path committed = touch("repo/models/clip/" + ClipVocabLocator.FILE);
        assertEquals(committed, ClipVocabLocator.locate(null, null, root));
        Path env = touch("env/vocab.json");
        assertEquals(env, ClipVocabLocator.locate(null, env.toString(), root));
        Path flag = touch("flag/" + ClipVocabLocator.FILE);
        assertEquals(flag, ClipVocabLocator.locate(flag.toString(), env.toString(), root));
    }

    @Test
    void nothingFoundSaysWhereToPutTheFile() {
        // A root two levels down, so its ../shared is inside the temp folder and certainly absent.
        Path root = dir.resolve("outer/repo");
        UserError e = assertThrows(UserError.class, () -> ClipVocabLocator.locate(null, null, root));
        assertTrue(e.getMessage().contains(root.resolve("models/clip").resolve(ClipVocabLocator.FILE).toString()),
                e.getMessage());
    }
}
