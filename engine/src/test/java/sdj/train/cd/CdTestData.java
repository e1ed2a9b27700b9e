package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.tensor.Tensor;

/** Files of shared/testdata/sd-tiny-train and the base model they were made from. */
final class CdTestData {
    private static Map<String, Tensor> reference;
    private static Map<String, Tensor> base;

    private CdTestData() {
    }

    static Path file(String name) {
        Path p = TestData.shared().resolve("testdata/sd-tiny-train").resolve(name);
        if (!Files.isRegularFile(p)) {
            fail("test file " + p + " is missing; see shared/testdata/sd-tiny-train/README.md");
        }
        return p;
    }

    static Path folder() {
        return file("README.md").getParent();
    }

    static Path baseCheckpoint() {
        return TestData.sdTiny("model.ckpt");
    }

    static synchronized Map<String, Tensor> reference() throws IOException {
        if (reference == null) {
            reference = SafeTensors.open(file("train-reference.safetensors")).tensors();
        }
        return reference;
    }

    static synchronized Map<String, Tensor> base() throws IOException {
        if (base == null) {
            base = StateDicts.load(baseCheckpoint());
        }
        return base;
    }

    /** max|a − b| ≤ rel·max|b|. */
    static boolean within(float[] a, float[] b, double rel) {
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < a.length; i++) {
            maxErr = Math.max(maxErr, Math.abs((double) a[i] - b[i]));
            maxRef = Math.max(maxRef, Math.abs(b[i]));
        }
        return a.length == b.length && maxErr <= rel * maxRef;
    }

    /** Forward tolerance: max|a − b| ≤ 1e-4·max(1, max|b|). */
    static boolean withinForward(float[] a, float[] b) {
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < a.length; i++) {
            maxErr = Math.max(maxErr, Math.abs((double) a[i] - b[i]));
            maxRef = Math.max(maxRef, Math.abs(b[i]));
        }
        return a.length == b.length && maxErr <= 1e-4 * Math.max(1, maxRef);
    }
}
