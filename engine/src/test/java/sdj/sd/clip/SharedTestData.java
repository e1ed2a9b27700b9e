package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds files in the shared folder beside the repository (system property {@code sdj.shared}, set by surefire). */
public final class SharedTestData {
    private SharedTestData() {
    }

    public static Path shared() {
        return Path.of(System.getProperty("sdj.shared", "../../shared")).toAbsolutePath().normalize();
    }

    /** A file under the shared folder; fails the test with a clear message when it is missing. */
    public static Path file(String relative) {
        Path p = shared().resolve(relative);
        if (!Files.isRegularFile(p)) {
            fail("test data " + p + " is missing: these tests need the shared folder beside the repository "
                    + "(or -Dsdj.shared=DIR pointing at it)");
        }
        return p;
    }

    public static Path clipMerges() {
        return file("data/clip/bpe_simple_vocab_16e6.txt.gz");
    }

    public static Path promptsJson() {
        return file("testdata/sd-tiny/prompts.json");
    }
}
