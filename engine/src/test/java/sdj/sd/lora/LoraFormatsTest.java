package sdj.sd.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.sd.DiffusersNames;
import sdj.sd.unet.UNetConfig;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * Each LoRA naming scheme, written by hand from the format facts (TRAINING-FACTS §3.6, §4), lands on
 * the right SD v1 weight with ΔW = strength·scale·Σ_r up[o,r]·down[r,…] (computed here in double by
 * plain loops); unused keys are reported.
 */
class LoraFormatsTest {
    private static final String UNET = "model.diffusion_model.";
    private static final String TE = "cond_stage_model.transformer.text_model.";
    private static final LoraMerge MERGE = new LoraMerge(DiffusersNames.of(UNetConfig.SD_V1));
    private final SplittableRandom random = new SplittableRandom(3);

    private Tensor randn(int... shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, shape);
    }

    /** A state dict holding W (and a bias that must stay) for each module. */
    private Map<String, Tensor> model(Map<String, int[]> weightShapes) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        weightShapes.forEach((module, shape) -> {
            sd.put(module + ".weight", randn(shape));
            sd.put(module + ".bias", randn(shape[0]));
        });
        return sd;
    }

    /** Checks W' = W + factor·Σ_r up[o,r]·down[r,c] over flattened columns c, and the bias untouched. */
    private static void assertMerged(Map<String, Tensor> before, LoraMerge.Result r, String module, Tensor down, Tensor up,
            double factor) {
        float[] w0 = before.get(module + ".weight").toFloatArray();
        float[] w1 = r.stateDict().get(module + ".weight").toFloatArray();
        float[] d = down.to(DType.F32).toFloatArray();
        float[] u = up.to(DType.F32).toFloatArray();
        int rank = down.size(0);
        int out = up.size(0);
        int cols = d.length / rank;
        assertEquals(out * cols, w0.length, module);
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < cols; c++) {
                double delta = 0;
                for (int k = 0; k < rank; k++) {
                    delta += u[o * rank + k] * (double) d[k * cols + c];
                }
                double expected = w0[o * cols + c] + factor * delta;
                assertEquals(expected, w1[o * cols + c], 1e-5 * (1 + Math.abs(expected)), module + " [" + o + "," + c + "]");
            }
        }
        assertSame(before.get(module + ".bias"), r.stateDict().get(module + ".bias"), "biases stay");
    }

    @Test
    void kohyaLinearConv1x1AndLoConWithAlpha() {
        String toQ = UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q";
        String projIn = UNET + "output_blocks.9.1.proj_in";
        String conv1 = UNET + "input_blocks.1.0.in_layers.2";
        String fc1 = TE + "encoder.layers.0.mlp.fc1";
        Map<String, Tensor> sd = model(Map.of(toQ, new int[] {8, 8}, projIn, new int[] {8, 8, 1, 1}, conv1,
                new int[] {6, 5, 3, 3}, fc1, new int[] {12, 8}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        Tensor qd = put(f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight", 4, 8);
        Tensor qu = put(f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", 8, 4);
        f.put("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.alpha", Tensor.scalar(2f));
        Tensor pd = put(f, "lora_unet_up_blocks_3_attentions_0_proj_in.lora_down.weight", 2, 8, 1, 1);
        Tensor pu = put(f, "lora_unet_up_blocks_3_attentions_0_proj_in.lora_up.weight", 8, 2, 1, 1);
        f.put("lora_unet_up_blocks_3_attentions_0_proj_in.alpha", Tensor.scalar(1f));
        Tensor cd = put(f, "lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight", 3, 5, 3, 3);
        Tensor cu = put(f, "lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight", 6, 3, 1, 1);
        f.put("lora_unet_down_blocks_0_resnets_0_conv1.alpha", Tensor.scalar(6f));
        Tensor td = put(f, "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", 4, 8);
        Tensor tu = put(f, "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", 12, 4);

        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "k.safetensors"), 0.7f);
        assertEquals(4, r.applied());
        assertEquals(List.of(), r.unusedKeys());
        assertMerged(sd, r, toQ, qd, qu, 0.7 * 2 / 4);
        assertMerged(sd, r, projIn, pd, pu, 0.7 * 1 / 2);
        assertMerged(sd, r, conv1, cd, cu, 0.7 * 6 / 3);
        assertMerged(sd, r, fc1, td, tu, 0.7); // no alpha: scale 1
    }

    @Test
    void textEncoderAndUNetTakeTheirOwnStrengths() {
        String toQ = UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q";
        String fc1 = TE + "encoder.layers.0.mlp.fc1";
        Map<String, Tensor> sd = model(Map.of(toQ, new int[] {8, 8}, fc1, new int[] {12, 8}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        Tensor qd = put(f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight", 4, 8);
        Tensor qu = put(f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", 8, 4);
        Tensor td = put(f, "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", 4, 8);
        Tensor tu = put(f, "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", 12, 4);
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "k"), new Strength(0.25f, 0.75f));
        assertMerged(sd, r, toQ, qd, qu, 0.75);
        assertMerged(sd, r, fc1, td, tu, 0.25);
        assertEquals("lora k (strength te 0.25, unet 0.75): applied 2 modules, every key used",
                r.summary("k", new Strength(0.25f, 0.75f)));
    }

    @Test
    void anExplicitScaleWinsOverAlpha() {
        String toK = UNET + "middle_block.1.transformer_blocks.0.attn2.to_k";
        Map<String, Tensor> sd = model(Map.of(toK, new int[] {8, 6}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        Tensor d = put(f, "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", 2, 6);
        Tensor u = put(f, "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight", 8, 2);
        f.put("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.alpha", Tensor.scalar(1f));
        f.put("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.scale", Tensor.scalar(0.25f));
        assertMerged(sd, MERGE.apply(sd, LoraFile.of(f, "s"), 1f), toK, d, u, 0.25);
    }

    @Test
    void diffusersUNetAndTextEncoderNames() {
        String toOut = UNET + "output_blocks.5.1.transformer_blocks.0.attn2.to_out.0";
        String qProj = TE + "encoder.layers.3.self_attn.q_proj";
        Map<String, Tensor> sd = model(Map.of(toOut, new int[] {8, 8}, qProj, new int[] {6, 6}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        Tensor od = put(f, "unet.up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_out.0.lora.down.weight", 4, 8);
        Tensor ou = put(f, "unet.up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_out.0.lora.up.weight", 8, 4);
        Tensor qd = put(f, "text_encoder.text_model.encoder.layers.3.self_attn.q_proj.lora_linear_layer.down.weight", 4, 6);
        Tensor qu = put(f, "text_encoder.text_model.encoder.layers.3.self_attn.q_proj.lora_linear_layer.up.weight", 6, 4);
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "pytorch_lora_weights.safetensors"), 0.5f);
        assertEquals(2, r.applied());
        assertMerged(sd, r, toOut, od, ou, 0.5);
        assertMerged(sd, r, qProj, qd, qu, 0.5);
    }

    @Test
    void rawPeftNames() {
        String toV = UNET + "input_blocks.8.1.transformer_blocks.0.attn1.to_v";
        String vProj = TE + "encoder.layers.0.self_attn.v_proj";
        String fc2 = TE + "encoder.layers.1.mlp.fc2";
        Map<String, Tensor> sd = model(Map.of(toV, new int[] {8, 8}, vProj, new int[] {6, 6}, fc2, new int[] {6, 10}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        Tensor a = put(f, "base_model.model.down_blocks.2.attentions.1.transformer_blocks.0.attn1.to_v.lora_A.weight", 4, 8);
        Tensor b = put(f, "base_model.model.down_blocks.2.attentions.1.transformer_blocks.0.attn1.to_v.lora_B.weight", 8, 4);
        Tensor ta = put(f, "base_model.model.text_model.encoder.layers.0.self_attn.v_proj.lora_A.weight", 2, 6);
        Tensor tb = put(f, "base_model.model.text_model.encoder.layers.0.self_attn.v_proj.lora_B.weight", 6, 2);
        Tensor ua = put(f, "text_encoder.text_model.encoder.layers.1.mlp.fc2.lora_A.default.weight", 2, 10);
        Tensor ub = put(f, "text_encoder.text_model.encoder.layers.1.mlp.fc2.lora_B.default.weight", 6, 2);
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "adapter_model.safetensors"), 1f);
        assertEquals(3, r.applied());
        assertMerged(sd, r, toV, a, b, 1);
        assertMerged(sd, r, vProj, ta, tb, 1);
        assertMerged(sd, r, fc2, ua, ub, 1);
    }

    @Test
    void oldAttentionProcessorNames() {
        String attn = UNET + "input_blocks.2.1.transformer_blocks.0.attn1.";
        Map<String, Tensor> sd = model(Map.of(attn + "to_q", new int[] {8, 8}, attn + "to_out.0", new int[] {8, 8}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        String proc = "down_blocks.0.attentions.1.transformer_blocks.0.attn1.processor.";
        Tensor qd = put(f, proc + "to_q_lora.down.weight", 4, 8);
        Tensor qu = put(f, proc + "to_q_lora.up.weight", 8, 4);
        Tensor od = put(f, proc + "to_out_lora.down.weight", 4, 8);
        Tensor ou = put(f, proc + "to_out_lora.up.weight", 8, 4);
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "pytorch_lora_weights.bin"), 1f);
        assertEquals(2, r.applied());
        assertMerged(sd, r, attn + "to_q", qd, qu, 1);
        assertMerged(sd, r, attn + "to_out.0", od, ou, 1);
    }

    @Test
    void fullRankDifferencesAreAddedAsTheyAre() {
        String toK = UNET + "output_blocks.3.1.transformer_blocks.0.attn2.to_k";
        String toOut = UNET + "output_blocks.3.1.transformer_blocks.0.attn2.to_out.0";
        Map<String, Tensor> sd = model(Map.of(toK, new int[] {8, 6}, toOut, new int[] {8, 8}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        String k = "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k";
        String o = "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn2_to_out_0";
        Tensor dk = put(f, k + ".diff", 8, 6);
        Tensor db = put(f, o + ".diff_b", 8);
        put(f, o + ".diff", 8, 6); // not to_out's shape
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "cd.safetensors"), 0.5f);
        assertEquals(2, r.applied());
        assertEquals(List.of(o + ".diff"), r.unusedKeys());
        float[] w0 = sd.get(toK + ".weight").toFloatArray();
        float[] w1 = r.stateDict().get(toK + ".weight").toFloatArray();
        float[] d = dk.toFloatArray();
        for (int i = 0; i < w0.length; i++) {
            assertEquals(w0[i] + 0.5 * d[i], w1[i], 1e-6);
        }
        float[] b0 = sd.get(toOut + ".bias").toFloatArray();
        float[] b1 = r.stateDict().get(toOut + ".bias").toFloatArray();
        for (int i = 0; i < b0.length; i++) {
            assertEquals(b0[i] + 0.5 * db.toFloatArray()[i], b1[i], 1e-6);
        }
        assertSame(sd.get(toOut + ".weight"), r.stateDict().get(toOut + ".weight"));
        assertSame(sd.get(toK + ".bias"), r.stateDict().get(toK + ".bias"));
    }

    @Test
    void unusedKeysAreReportedAndChangeNothing() {
        String toQ = UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q";
        Map<String, Tensor> sd = model(Map.of(toQ, new int[] {8, 8}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        String q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
        put(f, q + ".lora_down.weight", 4, 8);
        put(f, q + ".lora_up.weight", 8, 4);
        f.put("ss_something", Tensor.scalar(1f)); // not an adapter part
        put(f, "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", 4, 8); // no up
        put(f, "lora_unet_down_blocks_3_attentions_0_proj_in.lora_down.weight", 4, 8); // no such block in SD v1
        put(f, "lora_unet_down_blocks_3_attentions_0_proj_in.lora_up.weight", 8, 4);
        put(f, "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", 4, 8); // SDXL's second encoder
        put(f, "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", 8, 4);
        put(f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.lora_down.weight", 4, 8); // not in sd
        put(f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.lora_up.weight", 8, 4);
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "mixed"), 1f);
        assertEquals(1, r.applied());
        assertEquals(List.of("ss_something", "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight",
                "lora_unet_down_blocks_3_attentions_0_proj_in.lora_down.weight",
                "lora_unet_down_blocks_3_attentions_0_proj_in.lora_up.weight",
                "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight",
                "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight",
                "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.lora_down.weight",
                "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.lora_up.weight"), r.unusedKeys());
        assertEquals("lora mixed (strength 1.0): applied 1 modules, 8 keys not used: ss_something, "
                + "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight, "
                + "lora_unet_down_blocks_3_attentions_0_proj_in.lora_down.weight, "
                + "lora_unet_down_blocks_3_attentions_0_proj_in.lora_up.weight, "
                + "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight, "
                + "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight, "
                + "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.lora_down.weight, "
                + "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.lora_up.weight",
                r.summary("mixed", 1f));
    }

    @Test
    void aWeightOfAnotherShapeIsNotTouched() {
        String toQ = UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q";
        Map<String, Tensor> sd = model(Map.of(toQ, new int[] {8, 8}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        String q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
        put(f, q + ".lora_down.weight", 4, 16); // made for a model with 16 input channels
        put(f, q + ".lora_up.weight", 8, 4);
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.of(f, "wide"), 1f);
        assertEquals(0, r.applied());
        assertEquals(2, r.unusedKeys().size());
        assertSame(sd.get(toQ + ".weight"), r.stateDict().get(toQ + ".weight"));
    }

    @Test
    void aDamagedPairIsNamedInTheMessage() {
        Map<String, Tensor> f = new LinkedHashMap<>();
        put(f, "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", 4, 8);
        put(f, "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", 8, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraFile.of(f, "bad.safetensors"));
        assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("lora_te_text_model_encoder_layers_0_mlp_fc1")
                && e.getMessage().contains("[8, 3]"), e.getMessage());
    }

    @Test
    void aHalfPrecisionSafetensorsFileIsReadFromDisk(@TempDir Path dir) throws Exception {
        String fc2 = TE + "encoder.layers.0.mlp.fc2";
        Map<String, Tensor> sd = model(Map.of(fc2, new int[] {6, 10}));
        Map<String, Tensor> f = new LinkedHashMap<>();
        Tensor d = randn(2, 10).to(DType.F16);
        Tensor u = randn(6, 2).to(DType.F16);
        f.put("lora_te_text_model_encoder_layers_0_mlp_fc2.lora_down.weight", d);
        f.put("lora_te_text_model_encoder_layers_0_mlp_fc2.lora_up.weight", u);
        f.put("lora_te_text_model_encoder_layers_0_mlp_fc2.alpha", Tensor.scalar(1f).to(DType.F16));
        Path file = dir.resolve("half.safetensors");
        SafeTensors.write(file, f, Map.of("ss_network_dim", "2"));
        LoraMerge.Result r = MERGE.apply(sd, LoraFile.read(file), 0.8f);
        assertEquals(1, r.applied());
        assertMerged(sd, r, fc2, d, u, 0.8 * 1 / 2);
    }

    private Tensor put(Map<String, Tensor> f, String key, int... shape) {
        Tensor t = randn(shape);
        f.put(key, t);
        return t;
    }
}
