package sdj.sd.clip;

import java.util.Map;
import static sdj.sd.ConfigValues.intOf;

/**
 * Sizes of the CLIP text transformer. SD v1 uses OpenAI's ViT-L/14 text tower: width 768, 12 layers,
 * 12 heads, 77 positions, vocabulary 49408 (+ any added tokens).
 */
public record ClipConfig(int vocab, int positions, int width, int layers, int heads) {
    public static final ClipConfig SD_V1 = new ClipConfig(49408, 77, 768, 12, 12);

    public ClipConfig {
        if (width % heads != 0) {
            throw new IllegalArgumentException("CLIP width " + width + " is not divisible by " + heads + " heads");
        }
    }

    /** From the JSON object form {"width": 64, "layers": 2, "heads": 4, ...}; missing keys take SD v1 values. */
    public static ClipConfig fromMap(Map<String, Object> m) {
        return new ClipConfig(
                intOf(m, "vocab", SD_V1.vocab), intOf(m, "context", SD_V1.positions), intOf(m, "width", SD_V1.width),
                intOf(m, "layers", SD_V1.layers), intOf(m, "heads", SD_V1.heads));
    }
}
