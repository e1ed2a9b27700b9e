package sdj.train.lora;

import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.Json;
import sdj.train.TrainTestData;

/** The LoRA module table of shared/testdata/sd-tiny-train ({@link TrainTestData} finds its files). */
final class LoraTestData {
    private LoraTestData() {
    }

    /** lora_modules.json: kohya module name → its entry (weight_key, kind, lora_down_shape, lora_up_shape). */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> modules() throws IOException {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        Json.parseObject(Files.readString(TrainTestData.file("lora_modules.json")))
                .forEach((k, v) -> out.put(k, (Map<String, Object>) v));
        return out;
    }
}
