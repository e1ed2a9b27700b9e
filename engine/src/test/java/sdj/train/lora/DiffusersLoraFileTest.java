package sdj.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
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
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.TrainTestData;

/** diffusers' pytorch_lora_weights.safetensors: its names for the attention set, and alpha/rank folded into up. */
class DiffusersLoraFileTest {
    @TempDir
    Path dir;

    @Test
    void attentionAdaptersGetDiffusersNamesAndTheScaleFoldedIntoUp() throws Exception {
        Map<String, Tensor> ref = SafeTensors.open(TrainTestData.file("lora_kohya.safetensors")).tensors();
        ModelConfigs configs = KohyaLoraFileTest.configs();
        DiffusersNames diffusers = DiffusersNames.of(configs);
        KohyaNames kohya = new KohyaNames(diffusers);
        Map<String, Tensor> sd = new LinkedHashMap<>(StateDicts.load(TestData.sdTiny("model.ckpt")));
        ref.forEach((key, t) -> {
            int dot = key.indexOf('.');
            sd.put(kohya.toLdm(key.substring(0, dot)) + key.substring(dot), t);
        });
        List<AdapterRule> rules = List.of(
                new AdapterRule(LoraTargets.ATTN.unet(), 4, 4f, 0f, 0L, AdapterRule.DownInit.GAUSSIAN),
                new AdapterRule(LoraTargets.ATTN.textEncoder(), 4, 4f, 0f, 0L, AdapterRule.DownInit.GAUSSIAN));
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(sd, configs, "model.ckpt", Device.CPU, DType.F32,
                rules);
        assertEquals(16 * 8 + 2 * 4, model.store().adapters().size(), "attn1/attn2 q,k,v,out of 16 blocks; CLIP q,k,v,out");

        Path file = dir.resolve(DiffusersLoraFile.FILE_NAME);
        DiffusersLoraFile.write(file, model.store().adapters(), diffusers);
        SafeTensors ours = SafeTensors.open(file);
        assertEquals(Map.of("format", "pt"), ours.metadata());
        Map<String, Tensor> t = ours.tensors();
        assertEquals(2 * (16 * 8 + 2 * 4), t.size());
        String unet = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";
        String te = "text_encoder.text_model.encoder.layers.1.self_attn.out_proj";
        assertTrue(t.keySet().containsAll(List.of(unet + ".lora.down.weight", unet + ".lora.up.weight",
                unet.replace("to_q", "to_out.0") + ".lora.up.weight", te + ".lora_linear_layer.down.weight",
                te + ".lora_linear_layer.up.weight")), t.keySet().toString());
        // the file's alpha 2 at rank 4 (scale 0.5) goes into up; down is unchanged
        String k = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
        assertArrayEquals(ref.get(k + ".lora_down.weight").toFloatArray(), t.get(unet + ".lora.down.weight").toFloatArray());
        float[] up = ref.get(k + ".lora_up.weight").toFloatArray();
        float[] ourUp = t.get(unet + ".lora.up.weight").toFloatArray();
        for (int i = 0; i < up.length; i++) {
            assertEquals(up[i] * 0.5f, ourUp[i], 0f, "up[" + i + "]");
        }
    }
}
