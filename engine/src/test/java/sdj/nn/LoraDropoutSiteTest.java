package sdj.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.nn.HandMath.randomTensor;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.tensor.Tensor;

/**
 * kohya's dropout site: in training mode the adapter adds scale·up(dropout(down(x))), a mask over the r
 * down outputs of each row (inverted dropout, ×1/(1−p)), checked against every possible mask written out by hand.
 */
class LoraDropoutSiteTest {
    @Test
    void dropoutOnTheDownOutputMasksRankComponentsPerRow() {
        int in = 5;
        int out = 3;
        int rank = 4;
        int rows = 40;
        float alpha = 2f;
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("m.layer.weight", randomTensor(1, out, in));
        sd.put("m.layer.bias", randomTensor(2, out));
        sd.put("m.layer.lora_down.weight", randomTensor(3, rank, in));
        sd.put("m.layer.lora_up.weight", randomTensor(4, out, rank));
        AdapterRule rule = AdapterRule.lora("layer$", rank).withAlpha(alpha).withDropout(0.5f).withSeed(5)
                .withDropoutSite(AdapterRule.DropoutSite.DOWN_OUTPUT);
        ParameterStore store = ParameterStore.fromStateDict(sd, "test").withAdapters(rule);
        Linear layer = store.root().sub("m").linear("layer", in, out, true);
        Tensor x = randomTensor(6, rows, in);
        float[] eval = layer.forward(x).toFloatArray();
        store.setTraining(true);
        float[] train = layer.forward(x).toFloatArray();

        float[] xv = x.toFloatArray();
        float[] down = sd.get("m.layer.lora_down.weight").toFloatArray();
        float[] up = sd.get("m.layer.lora_up.weight").toFloatArray();
        double scale = alpha / rank;
        int partial = 0;
        for (int r = 0; r < rows; r++) {
            double[] d = new double[rank];
            for (int k = 0; k < rank; k++) {
                for (int i = 0; i < in; i++) {
                    d[k] += (double) down[k * in + i] * xv[r * in + i];
                }
            }
            int matched = -1;
            for (int mask = 0; mask < 1 << rank && matched < 0; mask++) {
                boolean ok = true;
                for (int o = 0; o < out && ok; o++) {
                    // train = eval − scale·up·d + scale·up·(2·m⊙d)
                    double delta = 0;
                    for (int k = 0; k < rank; k++) {
                        double kept = (mask >> k & 1) == 1 ? 2 * d[k] : 0;
                        delta += up[o * rank + k] * (kept - d[k]);
                    }
                    ok = Math.abs(eval[r * out + o] + scale * delta - train[r * out + o]) < 1e-5;
                }
                if (ok) {
                    matched = mask;
                }
            }
            assertTrue(matched >= 0, "row " + r + " is no down-output mask of the adapter branch");
            if (matched != 0 && matched != (1 << rank) - 1) {
                partial++;
            }
        }
        assertTrue(partial > rows / 2, partial + " of " + rows + " rows keep only some rank components");
        store.setTraining(false);
        float[] again = layer.forward(x).toFloatArray();
        for (int i = 0; i < eval.length; i++) {
            assertEquals(eval[i], again[i], 0f, "evaluation mode has no dropout");
        }
    }
}
