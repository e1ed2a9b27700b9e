package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.Json;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.ParameterStore;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;
import sdj.tensor.Tensor;

/**
 * LDM ↔ diffusers ↔ kohya names: every UNet and text-encoder key of sd-tiny round-trips and lands on
 * a distinct name; the reference's 204 kohya names (lora_modules.json) resolve to exactly the LDM keys
 * listed there; the SD v1 examples of TRAINING-FACTS §4–5; and a UNet of another shape.
 */
class DiffusersNamesTest {
    private static Map<String, Tensor> checkpoint;
    private static DiffusersNames names;

    @BeforeAll
    static void load() throws Exception {
        checkpoint = StateDicts.load(TestData.sdTiny("model.ckpt"));
        names = DiffusersNames.of(ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).detectFrom(checkpoint));
    }

    @Test
    void everySdTinyUNetAndTextEncoderKeyRoundTripsToADistinctName() {
        Map<String, String> seen = new HashMap<>();
        int unet = 0;
        int te = 0;
        for (String k : checkpoint.keySet()) {
            if (!k.startsWith(UNetModel.PREFIX + ".") && !k.startsWith(ClipTextModel.PREFIX + ".")) {
                assertNull(names.toDiffusers(k), k);
                continue;
            }
            String d = names.toDiffusers(k);
            assertNotNull(d, k);
            assertTrue(d.matches(k.startsWith(UNetModel.PREFIX) ? DIFFUSERS_UNET_KEY : "text_encoder\\.text_model\\..+"),
                    k + " → " + d);
            assertEquals(k, names.toLdm(d), d);
            String before = seen.put(d, k);
            assertNull(before, d + " is the name of both " + before + " and " + k);
            if (k.startsWith(UNetModel.PREFIX)) {
                unet++;
            } else {
                te++;
            }
        }
        assertTrue(unet > 300 && te > 30, unet + " UNet and " + te + " text-encoder keys");
    }

    /** The shapes diffusers' UNet2DConditionModel keys take (its module tree, written out by hand). */
    private static final String DIFFUSERS_UNET_KEY = "unet\\.(" + "time_embedding\\.linear_[12]|conv_in|conv_norm_out|conv_out"
            + "|(down_blocks\\.[0-3]|up_blocks\\.[0-3]|mid_block)\\.("
            + "resnets\\.\\d\\.(norm1|conv1|norm2|conv2|time_emb_proj|conv_shortcut)"
            + "|attentions\\.\\d\\.(norm|proj_in|proj_out|transformer_blocks\\.0\\.(norm[123]|attn[12]\\.(to_[qkv]|to_out\\.0)"
            + "|ff\\.net\\.0\\.proj|ff\\.net\\.2))"
            + "|downsamplers\\.0\\.conv|upsamplers\\.0\\.conv))\\.(weight|bias)";

    @Test
    void spotChecksFromTheTrainingFacts() {
        DiffusersNames v1 = DiffusersNames.of(UNetConfig.SD_V1);
        String ldm = "model.diffusion_model.";
        Map<String, String> expected = Map.ofEntries(
                Map.entry(ldm + "output_blocks.5.1.transformer_blocks.0.attn2.to_k.weight",
                        "unet.up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_k.weight"),
                Map.entry(ldm + "time_embed.0.weight", "unet.time_embedding.linear_1.weight"),
                Map.entry(ldm + "time_embed.2.bias", "unet.time_embedding.linear_2.bias"),
                Map.entry(ldm + "input_blocks.0.0.weight", "unet.conv_in.weight"),
                Map.entry(ldm + "out.0.weight", "unet.conv_norm_out.weight"),
                Map.entry(ldm + "out.2.bias", "unet.conv_out.bias"),
                Map.entry(ldm + "input_blocks.4.0.in_layers.0.weight", "unet.down_blocks.1.resnets.0.norm1.weight"),
                Map.entry(ldm + "input_blocks.4.0.in_layers.2.weight", "unet.down_blocks.1.resnets.0.conv1.weight"),
                Map.entry(ldm + "input_blocks.4.0.out_layers.0.bias", "unet.down_blocks.1.resnets.0.norm2.bias"),
                Map.entry(ldm + "input_blocks.4.0.out_layers.3.weight", "unet.down_blocks.1.resnets.0.conv2.weight"),
                Map.entry(ldm + "input_blocks.4.0.emb_layers.1.weight", "unet.down_blocks.1.resnets.0.time_emb_proj.weight"),
                Map.entry(ldm + "input_blocks.4.0.skip_connection.weight", "unet.down_blocks.1.resnets.0.conv_shortcut.weight"),
                Map.entry(ldm + "input_blocks.11.0.in_layers.2.weight", "unet.down_blocks.3.resnets.1.conv1.weight"),
                Map.entry(ldm + "input_blocks.3.0.op.weight", "unet.down_blocks.0.downsamplers.0.conv.weight"),
                Map.entry(ldm + "input_blocks.9.0.op.bias", "unet.down_blocks.2.downsamplers.0.conv.bias"),
                Map.entry(ldm + "middle_block.0.in_layers.2.weight", "unet.mid_block.resnets.0.conv1.weight"),
                Map.entry(ldm + "middle_block.1.proj_in.weight", "unet.mid_block.attentions.0.proj_in.weight"),
                Map.entry(ldm + "middle_block.2.emb_layers.1.bias", "unet.mid_block.resnets.1.time_emb_proj.bias"),
                Map.entry(ldm + "output_blocks.2.1.conv.weight", "unet.up_blocks.0.upsamplers.0.conv.weight"),
                Map.entry(ldm + "output_blocks.5.2.conv.weight", "unet.up_blocks.1.upsamplers.0.conv.weight"),
                Map.entry(ldm + "output_blocks.8.2.conv.bias", "unet.up_blocks.2.upsamplers.0.conv.bias"),
                Map.entry(ldm + "output_blocks.6.1.proj_out.weight", "unet.up_blocks.2.attentions.0.proj_out.weight"),
                Map.entry(ldm + "output_blocks.11.0.skip_connection.weight", "unet.up_blocks.3.resnets.2.conv_shortcut.weight"),
                Map.entry(ldm + "input_blocks.5.1.transformer_blocks.0.ff.net.0.proj.weight",
                        "unet.down_blocks.1.attentions.1.transformer_blocks.0.ff.net.0.proj.weight"),
                Map.entry("cond_stage_model.transformer.text_model.encoder.layers.11.self_attn.out_proj.weight",
                        "text_encoder.text_model.encoder.layers.11.self_attn.out_proj.weight"));
        expected.forEach((l, d) -> {
            assertEquals(d, v1.toDiffusers(l), l);
            assertEquals(l, v1.toLdm(d), d);
        });
        assertNull(v1.toDiffusers("first_stage_model.encoder.conv_in.weight"));
        assertNull(v1.toLdm("vae.encoder.conv_in.weight"));
        assertNull(v1.unetToLdm("down_blocks.3.attentions.0.proj_in"), "SD v1 has no attention at the lowest level");
    }

    @Test
    void kohyaExamplesFromTheTrainingFacts() {
        KohyaNames k = new KohyaNames(DiffusersNames.of(UNetConfig.SD_V1));
        String ldm = "model.diffusion_model.";
        Map<String, String> expected = Map.of(
                "lora_unet_down_blocks_0_attentions_0_proj_in", ldm + "input_blocks.1.1.proj_in",
                "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k",
                ldm + "middle_block.1.transformer_blocks.0.attn2.to_k",
                "lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_ff_net_0_proj",
                ldm + "output_blocks.11.1.transformer_blocks.0.ff.net.0.proj",
                "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn1_to_out_0",
                ldm + "output_blocks.3.1.transformer_blocks.0.attn1.to_out.0",
                "lora_te_text_model_encoder_layers_11_self_attn_out_proj",
                "cond_stage_model.transformer.text_model.encoder.layers.11.self_attn.out_proj",
                "lora_te_text_model_encoder_layers_0_mlp_fc1", "cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1",
                "lora_unet_down_blocks_0_resnets_0_conv1", ldm + "input_blocks.1.0.in_layers.2",
                "lora_unet_down_blocks_0_downsamplers_0_conv", ldm + "input_blocks.3.0.op",
                "lora_unet_up_blocks_2_resnets_1_time_emb_proj", ldm + "output_blocks.7.0.emb_layers.1",
                "lora_unet_up_blocks_0_upsamplers_0_conv", ldm + "output_blocks.2.1.conv");
        expected.forEach((kohya, module) -> {
            assertEquals(module, k.toLdm(kohya), kohya);
            assertEquals(kohya, k.toKohya(module), module);
        });
        assertNull(k.toLdm("lora_vae_encoder_conv_in"));
        assertNull(k.toKohya("first_stage_model.encoder.conv_in"));
    }

    @Test
    void kohyaStyleNamesOfLdmPathsAreTakenAsTheyAre() {
        KohyaNames k = new KohyaNames(DiffusersNames.of(UNetConfig.SD_V1));
        String ldm = "model.diffusion_model.";
        Map<String, String> expected = Map.of(
                "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k", ldm + "input_blocks.4.1.transformer_blocks.0.attn2.to_k",
                "lora_unet_middle_block_0_in_layers_2", ldm + "middle_block.0.in_layers.2",
                "lora_unet_output_blocks_2_1_conv", ldm + "output_blocks.2.1.conv",
                "lora_unet_input_blocks_3_0_op", ldm + "input_blocks.3.0.op",
                "lora_unet_output_blocks_7_0_skip_connection", ldm + "output_blocks.7.0.skip_connection",
                "lora_unet_output_blocks_7_0_emb_layers_1", ldm + "output_blocks.7.0.emb_layers.1",
                "lora_unet_time_embed_0", ldm + "time_embed.0",
                "lora_unet_out_2", ldm + "out.2");
        expected.forEach((kohya, module) -> assertEquals(module, k.toLdm(kohya), kohya));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theReferences204KohyaNamesResolveToTheListedLdmKeys() throws Exception {
        Path json = TestData.shared().resolve("testdata/sd-tiny-train/lora_modules.json");
        Map<String, Object> modules = Json.parseObject(Files.readString(json));
        assertEquals(204, modules.size());
        KohyaNames k = new KohyaNames(names);
        for (Map.Entry<String, Object> e : modules.entrySet()) {
            String weightKey = (String) ((Map<String, Object>) e.getValue()).get("weight_key");
            String module = weightKey.substring(0, weightKey.length() - ".weight".length());
            assertEquals(module, k.toLdm(e.getKey()), e.getKey());
            assertEquals(e.getKey(), k.toKohya(module), module);
            assertTrue(checkpoint.containsKey(weightKey), weightKey);
        }
    }

    @Test
    void everySdTinyModuleHasAKohyaNameThatLeadsBack() {
        KohyaNames k = new KohyaNames(names);
        Set<String> kohya = new TreeSet<>();
        for (String key : checkpoint.keySet()) {
            if (key.endsWith(".weight") && names.toDiffusers(key) != null) {
                String module = key.substring(0, key.length() - ".weight".length());
                String name = k.toKohya(module);
                assertEquals(module, k.toLdm(name), name);
                assertTrue(kohya.add(name), name);
            }
        }
        assertTrue(kohya.size() > 200, kohya.size() + " modules");
    }

    @Test
    void theTableFollowsTheUNetConfig() {
        // two levels, one res block each, attention only at the second level (downsample rate 2)
        UNetConfig c = new UNetConfig(4, 4, 32, new int[] {2}, 1, new int[] {1, 2}, 4, -1, 1, 16);
        Params0 built = Params0.of(c);
        DiffusersNames small = DiffusersNames.of(c);
        for (String key : built.keys()) {
            String d = small.toDiffusers(key);
            assertNotNull(d, key);
            assertTrue(d.matches(DIFFUSERS_UNET_KEY), key + " → " + d);
            assertEquals(key, small.toLdm(d));
        }
        String ldm = "model.diffusion_model.";
        assertEquals("unet.down_blocks.0.resnets.0.conv1.weight", small.toDiffusers(ldm + "input_blocks.1.0.in_layers.2.weight"));
        assertEquals("unet.down_blocks.0.downsamplers.0.conv.weight", small.toDiffusers(ldm + "input_blocks.2.0.op.weight"));
        assertEquals("unet.down_blocks.1.attentions.0.proj_in.weight", small.toDiffusers(ldm + "input_blocks.3.1.proj_in.weight"));
        assertEquals("unet.up_blocks.0.attentions.1.proj_out.weight", small.toDiffusers(ldm + "output_blocks.1.1.proj_out.weight"));
        assertEquals("unet.up_blocks.0.upsamplers.0.conv.weight", small.toDiffusers(ldm + "output_blocks.1.2.conv.weight"));
        assertEquals("unet.up_blocks.1.resnets.1.norm2.weight", small.toDiffusers(ldm + "output_blocks.3.0.out_layers.0.weight"));
        assertTrue(built.keys().contains(ldm + "output_blocks.1.2.conv.weight"), "the built model has the key tested");
    }

    /** The parameter keys of a randomly initialised UNet of config c. */
    private record Params0(List<String> keys) {
        static Params0 of(UNetConfig c) {
            ParameterStore store = ParameterStore.random(1);
            new UNetModel(store.root().sub(UNetModel.PREFIX), c);
            return new Params0(List.copyOf(store.parameters().keySet()));
        }
    }
}
