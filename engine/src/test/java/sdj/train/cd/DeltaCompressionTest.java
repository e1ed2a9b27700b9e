package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.io.TorchCheckpoint;
import sdj.tensor.Tensor;

/** adobe's compress.py on the reference's delta.ckpt: svd.rank.* exactly, svd.weight.* within 1e-4·max|b|. */
class DeltaCompressionTest {
    @Test
    void ranksAndWeightsMatchTheReference() throws IOException {
        Map<String, Tensor> delta = TorchCheckpoint.open(CdTestData.file("delta.ckpt")).stateDict();
        Map<String, Tensor> ref = CdTestData.reference();
        Map<String, Tensor> base = CdTestData.base();
        int compared = 0;
        for (Map.Entry<String, Tensor> e : delta.entrySet()) {
            String key = e.getKey();
            if (key.equals("embed")) {
                continue;
            }
            LowRankDelta low = DeltaCompression.compress(e.getValue(), base.get(key), key);
            assertEquals(ref.get("svd.rank." + key).toLongArray()[0], low.rank(), "rank of " + key);
            assertArrayEquals(new int[] {e.getValue().size(0), low.rank()}, low.u().shape());
            assertArrayEquals(new int[] {low.rank(), e.getValue().size(1)}, low.v().shape());
            float[] weight = low.apply(base.get(key), key).toFloatArray();
            assertTrue(CdTestData.within(weight, ref.get("svd.weight." + key).toFloatArray(), 1e-4), key);
            compared++;
        }
        assertEquals(32, compared);
    }

    @Test
    void keepsTheIndexWhereTheRunningShareFirstExceedsTheRatio() {
        // shares 0.5, 0.2, 0.2, 0.1: the sum exceeds 0.6 at i = 1, so one value is kept
        assertEquals(1, DeltaCompression.keptRank(new double[] {5, 2, 2, 1}, 0.6));
        // shares 0.3, 0.3, 0.3, 0.1: 0.6 is reached at i = 1 but not exceeded; exceeded at i = 2
        assertEquals(2, DeltaCompression.keptRank(new double[] {3, 3, 3, 1}, 0.6));
        // a dominant first value keeps none (compress.py stores empty factors then)
        assertEquals(0, DeltaCompression.keptRank(new double[] {9, 1}, 0.6));
    }
}
