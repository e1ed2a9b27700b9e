package sdj.train;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import sdj.io.TestData;

/** Files of shared/testdata/sd-tiny-train. */
public final class TrainTestData {
    private TrainTestData() {
    }

    public static Path file(String name) {
        Path p = TestData.shared().resolve("testdata/sd-tiny-train").resolve(name);
        if (!Files.isRegularFile(p)) {
            fail("test file " + p + " is missing; see shared/testdata/sd-tiny-train/README.md");
        }
        return p;
    }

    public static Path reference() {
        return file("train-reference.safetensors");
    }
}
