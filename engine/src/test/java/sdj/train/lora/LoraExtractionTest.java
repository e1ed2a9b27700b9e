package sdj.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.lora.LoraFile;
import sdj.sd.lora.LoraMerge;
import sdj.tensor.Tensor;

/**
 * Extraction recovers a known LoRA: sd-tiny with the reference's rank-4 kohya file merged at 1 gives,
 * at rank 4, the reference's module set and shapes, and a ΔW equal to the file's; an untouched text
 * encoder is left out.
 */
class LoraExtractionTest {
    private static Map<String, Tensor> base;
    private static Map<String, Tensor> lora;
    private static DiffusersNames names;
    private static Path train;

    @BeforeAll
    static void load() throws Exception {
        base = StateDicts.load(TestData.sdTiny("model.ckpt"));
        train = TestData.shared().resolve("testdata/sd-tiny-train");
        lora = SafeTensors.open(train.resolve("lora_kohya.safetensors")).tensors();
        names = DiffusersNames.of(ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).detectFrom(base));
    }

    /** ΔW = scale·up·down of one kohya module, flattened [out, cols], in double. */
    private static double[] delta(Map<String, Tensor> file, String module) {
        float[] up = file.get(module + ".lora_up.weight").toFloatArray();
        float[] down = file.get(module + ".lora_down.weight").toFloatArray();
        int r = file.get(module + ".lora_down.weight").size(0);
        double scale = file.get(module + ".alpha").item() / r;
        int out = up.length / r;
        int cols = down.length / r;
        double[] d = new double[out * cols];
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < cols; c++) {
                for (int j = 0; j < r; j++) {
                    d[o * cols + c] += scale * up[o * r + j] * (double) down[j * cols + c];
                }
            }
        }
        return d;
    }

    @Test
    @SuppressWarnings("unchecked")
    void aMergedRankFourLoraComesBackAtRankFour() throws Exception {
        Map<String, Tensor> tuned = new LoraMerge(names).apply(base, LoraFile.of(lora, "lora_kohya"), 1f).stateDict();
        LoraExtraction.Result r = LoraExtraction.extract(base, tuned, 4, new KohyaNames(names));
        assertEquals(204, r.modules());
        assertEquals(0, r.unchanged());
        assertEquals(new TreeSet<>(lora.keySet()), new TreeSet<>(r.tensors().keySet()));

        Map<String, Object> modules = Json.parseObject(Files.readString(train.resolve("lora_modules.json")));
        for (Map.Entry<String, Object> e : modules.entrySet()) {
            String m = e.getKey();
            Map<String, Object> info = (Map<String, Object>) e.getValue();
            assertArrayEquals(ints(info.get("lora_down_shape")), r.tensors().get(m + ".lora_down.weight").shape(), m);
            assertArrayEquals(ints(info.get("lora_up_shape")), r.tensors().get(m + ".lora_up.weight").shape(), m);
            assertEquals(4f, r.tensors().get(m + ".alpha").item(), m);
            double[] expected = delta(lora, m);
            double[] got = delta(r.tensors(), m);
            double max = 0;
            double err = 0;
            for (int i = 0; i < expected.length; i++) {
                max = Math.max(max, Math.abs(expected[i]));
                err = Math.max(err, Math.abs(got[i] - expected[i]));
            }
            // the merged weights are fp32: ΔW is known to about 1e-7·|W|, far below this bound
            assertTrue(err <= 1e-3 * max, m + ": max|ΔW' − ΔW| = " + err + " of " + max);
        }
    }

    @Test
    void anUntouchedTextEncoderIsLeftOut() {
        Map<String, Tensor> unetOnly = new LinkedHashMap<>();
        lora.forEach((k, v) -> {
            if (k.startsWith("lora_unet_")) {
                unetOnly.put(k, v);
            }
        });
        Map<String, Tensor> tuned = new LoraMerge(names).apply(base, LoraFile.of(unetOnly, "unet only"), 1f).stateDict();
        LoraExtraction.Result r = LoraExtraction.extract(base, tuned, 2, new KohyaNames(names));
        assertEquals(192, r.modules());
        assertEquals(12, r.unchanged());
        assertTrue(r.tensors().keySet().stream().allMatch(k -> k.startsWith("lora_unet_")));
        assertEquals(List.of(2, 32), List.of(r.tensors().get(
                "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight").shape()[0],
                r.tensors().get("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight")
                        .shape()[1]));
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }
}
