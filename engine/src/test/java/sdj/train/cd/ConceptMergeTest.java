package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.io.TorchCheckpoint;
import sdj.tensor.Tensor;

/**
 * Step 4 of the merge (README B) from the stored features merge.c_reg, merge.c_target and merge.target_concept:
 * every merge.&lt;key&gt; within 1e-5·max|b|, and the constraint C_t·Wᵀ = V_t.
 */
class ConceptMergeTest {
    @Test
    void mergedWeightsFromTheStoredFeaturesMatchTheReference() throws IOException {
        Map<String, Tensor> ref = CdTestData.reference();
        Map<String, Tensor> d1 = TorchCheckpoint.open(CdTestData.file("delta.ckpt")).stateDict();
        Map<String, Tensor> d2 = TorchCheckpoint.open(CdTestData.file("delta2.ckpt")).stateDict();
        long[] labels = ref.get("merge.target_concept").toLongArray();
        int[] concept = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            concept[i] = (int) labels[i] - 1;
        }
        float[] cTarget = ref.get("merge.c_target").toFloatArray();
        ConceptMerge merge = new ConceptMerge(ref.get("merge.c_reg").toFloatArray(), cTarget, concept, 64);
        List<String> keys = new ArrayList<>(d1.keySet());
        keys.remove("embed");
        Map<String, Tensor> merged = merge.merge(keys, CdTestData.base(), List.of(d1, d2));
        assertEquals(32, merged.size());
        for (String key : keys) {
            float[] w = merged.get(key).toFloatArray();
            assertTrue(CdTestData.within(w, ref.get("merge." + key).toFloatArray(), 1e-5), key);
            // each target row maps as its concept's fine-tuned weight maps it (README: residual 4e-07 relative)
            float[][] ft = {d1.get(key).toFloatArray(), d2.get(key).toFloatArray()};
            int rows = w.length / 64;
            double maxErr = 0;
            double maxRef = 0;
            for (int i = 0; i < concept.length; i++) {
                for (int c = 0; c < rows; c++) {
                    double got = 0;
                    double want = 0;
                    for (int j = 0; j < 64; j++) {
                        got += w[c * 64 + j] * cTarget[i * 64 + j];
                        want += ft[concept[i]][c * 64 + j] * cTarget[i * 64 + j];
                    }
                    maxErr = Math.max(maxErr, Math.abs(got - want));
                    maxRef = Math.max(maxRef, Math.abs(want));
                }
            }
            assertTrue(maxErr <= 1e-5 * maxRef, key + " constraint residual " + maxErr / maxRef);
        }
        // README B: cond(M) = 5.63e+08 in the 2-norm; the 1-norm figure is of the same order
        assertTrue(merge.conditionNumber() > 1e8 && merge.conditionNumber() < 1e11, "cond " + merge.conditionNumber());
    }

    @Test
    void tooFewRegularizationRowsIsAnErrorSayingWhatToDo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConceptMerge(new float[3 * 4], new float[4], new int[] {0}, 4));
        assertTrue(e.getMessage().contains("only 3 feature rows"), e.getMessage());
    }

    @Test
    void warnsWhenTheGramMatrixIsIllConditioned() {
        // two regularization directions 1e-7 apart in scale: cond₁(M) = 1e14
        float[] reg = {1, 0, 0, 1e-7f};
        ConceptMerge merge = new ConceptMerge(reg, new float[] {1, 0}, new int[] {0}, 2);
        assertNotNull(merge.conditionWarning());
        assertTrue(merge.conditionWarning().startsWith("C_regᵀC_reg is ill-conditioned"));
    }
}
