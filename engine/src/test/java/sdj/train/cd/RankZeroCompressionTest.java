package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.ModelConfigs;
import sdj.tensor.Tensor;

/**
 * A rank-1 delta: its one singular value holds the whole mass, so compress.py's loop stops at i = 0 and keeps no
 * value (empty u [C,0], v [0,in]); loading gives back W_pre, as adobe's sample.py does. The file round-trips and
 * export-lora leaves the module out.
 */
class RankZeroCompressionTest {
    private static final String KEY = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight";

    @TempDir
    Path tmp;

    @Test
    void aDominantSingularValueKeepsNothingAsAdobeDoes() throws IOException {
        float[] pre = new float[4 * 3];
        float[] ft = new float[4 * 3];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                pre[i * 3 + j] = i - j;
                ft[i * 3 + j] = pre[i * 3 + j] + (i + 1) * (j - 1.5f); // + a rank-1 outer product
            }
        }
        Map<String, Tensor> base = Map.of(KEY, Tensor.of(pre, 4, 3));
        CustomDiffusionDelta delta = new CustomDiffusionDelta(Map.of(KEY, Tensor.of(ft, 4, 3)), Map.of(), List.of(),
                null);
        CustomDiffusionDelta compressed = DeltaCompression.compress(delta, base);
        LowRankDelta low = compressed.lowRank().get(KEY);
        assertEquals(0, low.rank());
        assertArrayEquals(new int[] {4, 0}, low.u().shape());
        assertArrayEquals(new int[] {0, 3}, low.v().shape());

        DeltaFiles files = new DeltaFiles(DiffusersNames.of(ModelConfigs.SD_V1));
        Path out = tmp.resolve("compressed.ckpt");
        new DeltaFileWriter(files.keys()).writeCompVis(out, compressed);
        CustomDiffusionDelta back = files.read(out);
        assertEquals(0, back.lowRank().get(KEY).rank());
        assertArrayEquals(pre, back.fullWeights(base).get(KEY).toFloatArray());

        Path lora = tmp.resolve("lora.safetensors");
        LoraExport.Written w = LoraExport.write(lora, back, base, new KohyaNames(DiffusersNames.of(ModelConfigs.SD_V1)),
                false, 0.6);
        assertEquals(0, w.modules());
        assertEquals(0, SafeTensors.open(lora).tensors().size());
    }
}
