package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.ModelConfigs;
import sdj.tensor.Tensor;

/**
 * export-lora of the reference delta.ckpt: the low-rank file merged as kohya/sd.cpp merge it (W + (alpha/r)·up·down)
 * gives svd.weight.*, the full-rank .diff file gives cd.after.2.*; names, alphas and the embedding file.
 */
class LoraExportTest {
    private static final String MODULE = "lora_unet_up_blocks_1_attentions_2_transformer_blocks_0_attn2_to_k";
    private static final KohyaNames KOHYA = new KohyaNames(DiffusersNames.of(ModelConfigs.SD_V1));

    @TempDir
    Path tmp;

    @Test
    void lowRankFileMergesToTheCompressedWeights() throws IOException {
        CustomDiffusionDelta delta = new DeltaFiles(DiffusersNames.of(ModelConfigs.SD_V1)).read(CdTestData.file("delta.ckpt"));
        Path out = tmp.resolve("cd.safetensors");
        LoraExport.Written written = LoraExport.write(out, delta, CdTestData.base(), KOHYA, false, 0.6);
        SafeTensors file = SafeTensors.open(out);
        Map<String, Tensor> t = file.tensors();
        Map<String, Tensor> ref = CdTestData.reference();
        Map<String, Tensor> base = CdTestData.base();
        assertEquals(32, written.modules());
        assertEquals("Dynamic", file.metadata().get("ss_network_dim"));
        assertEquals("networks.lora", file.metadata().get("ss_network_module"));
        assertTrue(t.containsKey(MODULE + ".lora_up.weight"), t.keySet().toString());
        for (String key : delta.weights().keySet()) {
            String m = KOHYA.toKohya(key.substring(0, key.length() - ".weight".length()));
            Tensor up = t.get(m + ".lora_up.weight");
            Tensor down = t.get(m + ".lora_down.weight");
            int r = down.size(0);
            assertEquals(ref.get("svd.rank." + key).toLongArray()[0], r, key);
            assertArrayEquals(new int[0], t.get(m + ".alpha").shape(), "alpha is a 0-dim tensor");
            float scale = t.get(m + ".alpha").toFloatArray()[0] / r;
            assertEquals(1f, scale);
            float[] merged = mergeLora(base.get(key).toFloatArray(), up.toFloatArray(), down.toFloatArray(), r, scale);
            assertTrue(CdTestData.within(merged, ref.get("svd.weight." + key).toFloatArray(), 1e-4), key);
        }
        SafeTensors embedding = SafeTensors.open(tmp.resolve("<new1>.safetensors"));
        assertArrayEquals(ref.get("cd.after.2.embed").toFloatArray(), embedding.tensors().get("emb_params").toFloatArray());
        assertArrayEquals(new int[] {1, 64}, embedding.tensors().get("emb_params").shape());
    }

    @Test
    void fullRankFileHoldsTheExactDifference() throws IOException {
        CustomDiffusionDelta delta = new DeltaFiles(DiffusersNames.of(ModelConfigs.SD_V1)).read(CdTestData.file("delta.ckpt"));
        Path out = tmp.resolve("cd-full.safetensors");
        LoraExport.write(out, delta, CdTestData.base(), KOHYA, true, 0.6);
        Map<String, Tensor> t = SafeTensors.open(out).tensors();
        assertEquals(32, t.size());
        Map<String, Tensor> ref = CdTestData.reference();
        Map<String, Tensor> base = CdTestData.base();
        for (String key : delta.weights().keySet()) {
            String m = KOHYA.toKohya(key.substring(0, key.length() - ".weight".length()));
            float[] diff = t.get(m + ".diff").toFloatArray();
            float[] w0 = base.get(key).toFloatArray();
            float[] added = new float[diff.length];
            for (int i = 0; i < diff.length; i++) {
                added[i] = w0[i] + diff[i];
            }
            assertTrue(CdTestData.within(added, ref.get("cd.after.2." + key).toFloatArray(), 1e-6), key);
        }
    }

    /** kohya merge_lora.py for a Linear: W + scale·(up @ down). */
    private static float[] mergeLora(float[] w, float[] up, float[] down, int r, float scale) {
        int cols = down.length / r;
        float[] out = w.clone();
        for (int i = 0; i < w.length / cols; i++) {
            for (int j = 0; j < cols; j++) {
                double s = 0;
                for (int k = 0; k < r; k++) {
                    s += (double) up[i * r + k] * down[k * cols + j];
                }
                out[i * cols + j] += (float) (scale * s);
            }
        }
        return out;
    }
}
