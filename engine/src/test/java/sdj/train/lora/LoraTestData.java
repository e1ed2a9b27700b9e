package sdj.train.lora;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.Json;
import sdj.io.TestData;

/** Files of shared/testdata/sd-tiny-train used by the LoRA tests. */
final class LoraTestData {
    private LoraTestData() {
    }

    static Path file(String name) {
        Path p = TestData.shared().resolve("testdata/sd-tiny-train").resolve(name);
        if (!Files.isRegularFile(p)) {
            fail("test file " + p + " is missing; see shared/testdata/sd-tiny-train/README.md");
        }
        return p;
    }

    static Path reference() {
        return file("train-reference.safetensors");
    }

    /** lora_modules.json: kohya module name → its entry (weight_key, kind, lora_down_shape, lora_up_shape). */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> modules() throws IOException {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        Json.parseObject(Files.readString(file("lora_modules.json"))).forEach((k, v) -> out.put(k, (Map<String, Object>) v));
        return out;
    }
}
