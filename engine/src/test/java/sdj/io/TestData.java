package sdj.io;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the shared test data folder (system property sdj.shared, set by surefire). */
public final class TestData {
    private TestData() {
    }

    public static Path shared() {
        Path p = Path.of(System.getProperty("sdj.shared", "../../shared")).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            fail("shared test data folder " + p + " not found; run tests through Maven or pass -Dsdj.shared=/path/to/shared");
        }
        return p;
    }

    /** A file of testdata/sd-tiny (model.ckpt, model-fp16.ckpt, reference.safetensors, prompts.json). */
    public static Path sdTiny(String name) {
        Path p = shared().resolve("testdata/sd-tiny").resolve(name);
        if (!Files.isRegularFile(p)) {
            fail("test file " + p + " is missing; see shared/testdata/sd-tiny/README.md");
        }
        return p;
    }
}
