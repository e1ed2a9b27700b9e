package sdj.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.AdapterRule;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.Tensor;
import sdj.train.TrainTestData;

/**
 * Our kohya file for the reference's adapter set has exactly the reference file's keys, shapes, dtypes and alpha
 * values (lora_kohya.safetensors, lora_modules.json); adapters loaded from the reference are written back bit for bit.
 */
class KohyaLoraFileTest {
    @TempDir
    Path dir;

    @Test
    void freshAdaptersOnKohyasTargetsGiveTheReferencesKeysShapesAndAlphas() throws Exception {
        SafeTensors ref = SafeTensors.open(TrainTestData.file("lora_kohya.safetensors"));
        Map<String, String> refMeta = ref.metadata();
        int rank = Integer.parseInt(refMeta.get("ss_network_dim"));
        float alpha = Float.parseFloat(refMeta.get("ss_network_alpha"));
        StableDiffusionModel model = model(Map.of(), rank, alpha);
        assertEquals(204, model.store().adapters().size(), "kohya's 12 modules × 16 blocks + 6 × 2 CLIP layers");

        Path file = dir.resolve("ours.safetensors");
        KohyaLoraFile.write(file, model.store().adapters(), names(model), KohyaLoraFile.metadata(rank, alpha, "ours",
                Map.of("ss_unet_lr", PythonStrings.of(1e-3))));
        SafeTensors ours = SafeTensors.open(file);
        Map<String, Tensor> refTensors = ref.tensors();
        Map<String, Tensor> ourTensors = ours.tensors();
        assertEquals(new java.util.TreeSet<>(refTensors.keySet()), new java.util.TreeSet<>(ourTensors.keySet()));
        refTensors.forEach((key, r) -> {
            Tensor t = ourTensors.get(key);
            assertArrayEquals(r.shape(), t.shape(), key);
            assertEquals(r.dtype(), t.dtype(), key);
            if (key.endsWith(".alpha")) {
                assertEquals(r.item(), t.item(), key);
            }
        });
        for (Map.Entry<String, Map<String, Object>> e : LoraTestData.modules().entrySet()) {
            assertArrayEquals(ints(e.getValue().get("lora_down_shape")), ourTensors.get(e.getKey() + ".lora_down.weight")
                    .shape(), e.getKey());
            assertArrayEquals(ints(e.getValue().get("lora_up_shape")), ourTensors.get(e.getKey() + ".lora_up.weight")
                    .shape(), e.getKey());
        }
        Map<String, String> meta = ours.metadata();
        for (String k : List.of("ss_network_module", "ss_network_dim", "ss_network_alpha", "ss_base_model_version", "ss_v2")) {
            assertEquals(refMeta.get(k), meta.get(k), k);
        }
        assertEquals("stable-diffusion-v1/lora", meta.get("modelspec.architecture"));
        assertEquals("0.001", meta.get("ss_unet_lr"));
    }

    @Test
    void adaptersLoadedFromTheReferenceAreWrittenBackBitForBit() throws Exception {
        Map<String, Tensor> ref = SafeTensors.open(TrainTestData.file("lora_kohya.safetensors")).tensors();
        ModelConfigs configs = configs();
        KohyaNames names = new KohyaNames(DiffusersNames.of(configs));
        Map<String, Tensor> ldm = new LinkedHashMap<>();
        ref.forEach((key, t) -> {
            int dot = key.indexOf('.');
            String module = names.toLdm(key.substring(0, dot));
            assertNotNull(module, key);
            ldm.put(module + key.substring(dot), t);
        });
        StableDiffusionModel model = model(ldm, 4, 1f); // rule alpha 1: the file's alpha 2 must win
        Map<String, Tensor> ours = KohyaLoraFile.tensors(model.store().adapters(), names);
        assertEquals(ref.keySet().size(), ours.size());
        ref.forEach((key, t) -> assertArrayEquals(t.toFloatArray(), ours.get(key).toFloatArray(), key));
    }

    @Test
    void pythonStrRendersMetadataNumbersAsKohyaDoes() {
        assertEquals("0.0001", PythonStrings.of(1e-4));
        assertEquals("1e-05", PythonStrings.of(1e-5));
        assertEquals("1.5e-05", PythonStrings.of(1.5e-5));
        assertEquals("0.0005", PythonStrings.of(5e-4));
        assertEquals("2.0", PythonStrings.of(2.0));
        assertEquals("123.0", PythonStrings.of(123));
        assertEquals("1e+16", PythonStrings.of(1e16));
        assertEquals("-0.25", PythonStrings.of(-0.25));
        assertEquals("False", PythonStrings.of(false));
    }

    static StableDiffusionModel model(Map<String, Tensor> adapterTensors, int rank, float alpha) throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>(StateDicts.load(TestData.sdTiny("model.ckpt")));
        sd.putAll(adapterTensors);
        List<AdapterRule> rules = new ArrayList<>();
        for (LoraTargets t : List.of(LoraTargets.KOHYA)) {
            rules.add(new AdapterRule(t.unet(), rank, alpha, 0f, 1L, AdapterRule.DownInit.KAIMING_UNIFORM));
            rules.add(new AdapterRule(t.textEncoder(), rank, alpha, 0f, 1L, AdapterRule.DownInit.KAIMING_UNIFORM));
        }
        return StableDiffusionModel.fromStateDict(sd, configs(), "model.ckpt", sdj.tensor.Device.CPU,
                sdj.tensor.DType.F32, rules);
    }

    static ModelConfigs configs() throws IOException {
        return ModelConfigFiles.fromMetadata(SafeTensors.open(TrainTestData.reference()).metadata(), "reference");
    }

    static KohyaNames names(StableDiffusionModel model) {
        return new KohyaNames(DiffusersNames.of(model.configs()));
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(x -> ((Number) x).intValue()).toArray();
    }
}
