package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.SafeTensors;
import sdj.io.TestData;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Tensor;

/**
 * The whole merge (README B) from delta.ckpt + delta2.ckpt + reg_captions.txt with our own text encoder:
 * merge.embed exactly, merge.c_reg and merge.c_target within the forward tolerance, merge.target_concept exactly,
 * and the merged weights end to end (1e-2·max|b|, and W·C_regᵀ within 1e-3·max|b|).
 */
class CustomDiffusionMergeTest {
    private static CustomDiffusionMerge.Result result;
    private static Map<String, Tensor> ref;

    @BeforeAll
    static void merge() throws IOException {
        ref = CdTestData.reference();
        ModelConfigs configs = ModelConfigFiles.fromMetadata(
                SafeTensors.open(CdTestData.file("train-reference.safetensors")).metadata(), "reference");
        DeltaFiles files = new DeltaFiles(DiffusersNames.of(configs));
        ClipTokenizer tokenizer = ClipTokenizer.load(TestData.shared().resolve("data/clip/bpe_simple_vocab_16e6.txt.gz"));
        result = CustomDiffusionMerge.merge(CdTestData.base(), configs, "model.ckpt", tokenizer,
                List.of(files.read(CdTestData.file("delta.ckpt")), files.read(CdTestData.file("delta2.ckpt"))),
                List.of("cat", "dog"), Files.readAllLines(CdTestData.file("reg_captions.txt")));
    }

    @Test
    void embedRowsAreTheDeltasLastRowsInOrder() {
        assertArrayEquals(ref.get("merge.embed").toFloatArray(), result.delta().embed().toFloatArray());
        assertEquals(List.of("<new1>", "<new2>"), result.delta().tokens());
    }

    @Test
    void featuresMatchTheReference() {
        float[] cReg = ref.get("merge.c_reg").toFloatArray();
        assertEquals(cReg.length, result.cReg().length, "153 rows of 64");
        assertTrue(CdTestData.withinForward(result.cReg(), cReg), "merge.c_reg");
        float[] cTarget = ref.get("merge.c_target").toFloatArray();
        assertEquals(cTarget.length, result.targets().rows().length, "15 rows after dropping 3 duplicates");
        assertTrue(CdTestData.withinForward(result.targets().rows(), cTarget), "merge.c_target");
        long[] concept = ref.get("merge.target_concept").toLongArray();
        for (int i = 0; i < concept.length; i++) {
            assertEquals(concept[i], result.targets().concept()[i] + 1, "concept of target row " + i);
        }
    }

    @Test
    void mergedWeightsMatchEndToEnd() {
        float[] cReg = ref.get("merge.c_reg").toFloatArray();
        Map<String, Tensor> weights = result.delta().weights();
        assertEquals(32, weights.size());
        for (Map.Entry<String, Tensor> e : weights.entrySet()) {
            float[] expected = ref.get("merge." + e.getKey()).toFloatArray();
            float[] got = e.getValue().toFloatArray();
            assertTrue(CdTestData.within(got, expected, 1e-2), e.getKey());
            assertTrue(CdTestData.within(times(got, cReg), times(expected, cReg), 1e-3), e.getKey() + " · C_regᵀ");
        }
    }

    /** W [C,64] · C_regᵀ [64,n] → [C,n]. */
    private static float[] times(float[] w, float[] cReg) {
        int rows = w.length / 64;
        int n = cReg.length / 64;
        float[] out = new float[rows * n];
        for (int c = 0; c < rows; c++) {
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int j = 0; j < 64; j++) {
                    s += (double) w[c * 64 + j] * cReg[r * 64 + j];
                }
                out[c * n + r] = (float) s;
            }
        }
        return out;
    }
}
