package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.DiffusersLayout.Component;
import sdj.sd.DiffusersLayout.Key;
import sdj.tensor.Tensor;

/** Every key of sd-tiny maps to one diffusers key and back; spot checks against TRAINING-FACTS §5 and diffusers' script. */
class DiffusersLayoutTest {
    private static Map<String, Tensor> tiny;
    private static DiffusersLayout layout;

    @BeforeAll
    static void load() throws IOException {
        tiny = StateDicts.load(TestData.sdTiny("model.ckpt"));
        layout = DiffusersLayout.of(ModelConfigFiles.read(Path.of("../models/sd-tiny.json")));
    }

    @Test
    void everyModelKeyMapsToAUniqueDiffusersKeyAndBack() {
        Set<Key> seen = new HashSet<>();
        List<String> unmapped = new ArrayList<>();
        int[] perComponent = new int[Component.values().length];
        for (String name : tiny.keySet()) {
            Key key = layout.toDiffusers(name);
            if (key == null) {
                unmapped.add(name);
                continue;
            }
            assertTrue(seen.add(key), "two LDM keys map to " + key);
            assertEquals(name, layout.toLdm(key), "round trip of " + name);
            perComponent[key.component().ordinal()]++;
        }
        // only the LDM schedule buffers stay behind (diffusers' scheduler config holds the schedule)
        assertTrue(unmapped.stream().noneMatch(n -> n.contains(".")), "unmapped: " + unmapped);
        assertTrue(unmapped.containsAll(List.of("betas", "alphas_cumprod", "posterior_mean_coef2")), unmapped.toString());
        long unet = tiny.keySet().stream().filter(n -> n.startsWith("model.diffusion_model.")).count();
        long vae = tiny.keySet().stream().filter(n -> n.startsWith("first_stage_model.")).count();
        long clip = tiny.keySet().stream().filter(n -> n.startsWith("cond_stage_model.")).count();
        assertArrayEquals(new int[] {(int) unet, (int) vae, (int) clip}, perComponent);
    }

    @Test
    void keysAgreeWithTheConversionTable() {
        Object[][] pairs = {
            // TRAINING-FACTS §5's example, and one of each kind of UNet block
            {"model.diffusion_model.output_blocks.5.1.transformer_blocks.0.attn2.to_k.weight", Component.UNET,
                "up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_k.weight"},
            {"model.diffusion_model.input_blocks.3.0.op.weight", Component.UNET, "down_blocks.0.downsamplers.0.conv.weight"},
            {"model.diffusion_model.input_blocks.4.0.skip_connection.weight", Component.UNET,
                "down_blocks.1.resnets.0.conv_shortcut.weight"},
            {"model.diffusion_model.output_blocks.2.1.conv.bias", Component.UNET, "up_blocks.0.upsamplers.0.conv.bias"},
            {"model.diffusion_model.output_blocks.8.2.conv.weight", Component.UNET, "up_blocks.2.upsamplers.0.conv.weight"},
            {"model.diffusion_model.middle_block.2.emb_layers.1.weight", Component.UNET, "mid_block.resnets.1.time_emb_proj.weight"},
            {"model.diffusion_model.time_embed.2.bias", Component.UNET, "time_embedding.linear_2.bias"},
            {"model.diffusion_model.out.0.weight", Component.UNET, "conv_norm_out.weight"},
            // VAE: the decoder's up blocks count from the bottom (LDM up.3 = diffusers up_blocks.0)
            {"first_stage_model.decoder.up.3.block.2.conv1.weight", Component.VAE, "decoder.up_blocks.0.resnets.2.conv1.weight"},
            {"first_stage_model.decoder.up.1.upsample.conv.weight", Component.VAE, "decoder.up_blocks.2.upsamplers.0.conv.weight"},
            {"first_stage_model.encoder.down.2.downsample.conv.bias", Component.VAE,
                "encoder.down_blocks.2.downsamplers.0.conv.bias"},
            {"first_stage_model.encoder.down.1.block.0.nin_shortcut.weight", Component.VAE,
                "encoder.down_blocks.1.resnets.0.conv_shortcut.weight"},
            {"first_stage_model.encoder.mid.block_1.norm2.bias", Component.VAE, "encoder.mid_block.resnets.0.norm2.bias"},
            {"first_stage_model.decoder.mid.attn_1.norm.weight", Component.VAE, "decoder.mid_block.attentions.0.group_norm.weight"},
            {"first_stage_model.encoder.mid.attn_1.q.weight", Component.VAE, "encoder.mid_block.attentions.0.to_q.weight"},
            {"first_stage_model.decoder.mid.attn_1.proj_out.bias", Component.VAE,
                "decoder.mid_block.attentions.0.to_out.0.bias"},
            {"first_stage_model.decoder.norm_out.weight", Component.VAE, "decoder.conv_norm_out.weight"},
            {"first_stage_model.post_quant_conv.weight", Component.VAE, "post_quant_conv.weight"},
            // CLIP: the LDM prefix stripped
            {"cond_stage_model.transformer.text_model.encoder.layers.1.self_attn.q_proj.weight", Component.TEXT_ENCODER,
                "text_model.encoder.layers.1.self_attn.q_proj.weight"},
            {"cond_stage_model.transformer.text_model.embeddings.position_ids", Component.TEXT_ENCODER,
                "text_model.embeddings.position_ids"},
        };
        for (Object[] p : pairs) {
            String ldm = (String) p[0];
            assertNotNull(tiny.get(ldm), "sd-tiny has " + ldm);
            assertEquals(new Key((Component) p[1], (String) p[2]), layout.toDiffusers(ldm), ldm);
        }
        assertNull(layout.toDiffusers("alphas_cumprod"));
        assertNull(layout.toLdm(new Key(Component.VAE, "decoder.up_blocks.3.upsamplers.0.conv.weight"))); // top: none
    }

    @Test
    void theVaeAttentionConvsBecomeLinearWeightsAndComeBack() {
        Map<Component, Map<String, Tensor>> components = layout.toDiffusers(tiny);
        Tensor q = components.get(Component.VAE).get("encoder.mid_block.attentions.0.to_q.weight");
        assertArrayEquals(new int[] {128, 128, 1, 1}, tiny.get("first_stage_model.encoder.mid.attn_1.q.weight").shape());
        assertArrayEquals(new int[] {128, 128}, q.shape()); // sd-tiny's VAE: ch 32 × 4 at the bottom
        assertArrayEquals(tiny.get("first_stage_model.encoder.mid.attn_1.q.weight").toFloatArray(), q.toFloatArray());
        assertArrayEquals(new int[] {128}, components.get(Component.VAE).get("encoder.mid_block.attentions.0.to_q.bias").shape());
        // a UNet 1×1 conv keeps its 4-D shape (SD v1's proj_in is a conv in diffusers too)
        assertEquals(4, components.get(Component.UNET).get("down_blocks.0.attentions.0.proj_in.weight").shape().length);

        Map<String, Tensor> back = layout.toLdm(components);
        assertEquals(tiny.size() - 12, back.size()); // the 12 schedule buffers of an LDM checkpoint
        back.forEach((name, t) -> {
            assertArrayEquals(tiny.get(name).shape(), t.shape(), name);
            assertEquals(tiny.get(name).dtype(), t.dtype(), name);
        });
    }
}
