package sdj.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.nn.HandMath.addChannelBias;
import static sdj.nn.HandMath.assertClose;
import static sdj.nn.HandMath.axpy;
import static sdj.nn.HandMath.conv;
import static sdj.nn.HandMath.d;
import static sdj.nn.HandMath.matmul;
import static sdj.nn.HandMath.randomTensor;
import static sdj.nn.HandMath.timesTransposed;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.ops.GradCheck;
import sdj.tensor.Tensor;

/**
 * LoRA/LoCon adapters on single layers: the forward against W·x + b + scale·up(down(x)) written out
 * with explicit products, merge and unmerge, finite-difference gradients of the adapter tensors,
 * dropout, and the initialisation. Adapter tensors come from the store's source where a test needs
 * a non-zero up (a freshly initialised up is zero).
 */
class LoraAdapterTest {
    private static final double TOL = 1e-5;

    /** weight, bias, lora_down, lora_up and alpha for module m.layer, with random values. */
    private static Map<String, Tensor> source(int[] weightShape, int[] downShape, int[] upShape, float alpha) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("m.layer.weight", randomTensor(1, weightShape));
        sd.put("m.layer.bias", randomTensor(2, weightShape[0]));
        sd.put("m.layer.lora_down.weight", randomTensor(3, downShape));
        sd.put("m.layer.lora_up.weight", randomTensor(4, upShape));
        sd.put("m.layer.alpha", Tensor.scalar(alpha));
        return sd;
    }

    private static ParameterStore store(Map<String, Tensor> sd, AdapterRule rule) {
        return ParameterStore.fromStateDict(sd, "test state dict").withAdapters(rule);
    }

    // ---------------------------------------------------------------- Linear

    @Test
    void linearAddsScaledLowRankBranchWithTheFilesAlpha() {
        int in = 5;
        int out = 4;
        int rank = 3;
        Map<String, Tensor> sd = source(new int[] {out, in}, new int[] {rank, in}, new int[] {out, rank}, 2f);
        // the rule says alpha 7, the state dict says 2: the loaded tensor wins, scale = 2/3
        Linear layer = store(sd, AdapterRule.lora("layer$", rank).withAlpha(7)).root().sub("m").linear("layer", in, out, true);
        assertEquals(2f / 3f, layer.adapter().scale());

        Tensor x = randomTensor(5, 2, 3, in); // [B, N, in]: a batch of token rows
        int rows = 6;
        double[] base = addChannelBias(timesTransposed(d(x), d(sd.get("m.layer.weight")), rows, in, out),
                d(sd.get("m.layer.bias")), 1);
        double[] h = timesTransposed(d(x), d(sd.get("m.layer.lora_down.weight")), rows, in, rank);
        double[] branch = timesTransposed(h, d(sd.get("m.layer.lora_up.weight")), rows, rank, out);
        Tensor y = layer.forward(x);
        assertArrayEquals(new int[] {2, 3, out}, y.shape());
        assertClose(axpy(base, 2.0 / 3.0, branch), y, TOL, "W·x + b + (2/3)·up(down(x))");
    }

    @Test
    void linearMergeMatchesTheMergedWeightAndUnmergeRestoresItBitForBit() {
        int in = 6;
        int out = 3;
        int rank = 2;
        Map<String, Tensor> sd = source(new int[] {out, in}, new int[] {rank, in}, new int[] {out, rank}, 1f);
        Linear layer = store(sd, AdapterRule.lora("layer$", rank)).root().sub("m").linear("layer", in, out, true);
        float scale = layer.adapter().scale();
        assertEquals(0.5f, scale);
        float[] original = layer.weight().tensor().toFloatArray();
        Tensor x = randomTensor(6, 4, in);
        Tensor adapted = layer.forward(x);

        double[] merged = axpy(d(sd.get("m.layer.weight")), scale,
                matmul(d(sd.get("m.layer.lora_up.weight")), d(sd.get("m.layer.lora_down.weight")), out, rank, in));
        layer.adapter().merge();
        assertTrue(layer.adapter().merged());
        assertClose(merged, layer.weight().tensor(), 1e-6, "W + scale·up·down");
        double[] plain = addChannelBias(timesTransposed(d(x), merged, 4, in, out), d(sd.get("m.layer.bias")), 1);
        assertClose(plain, layer.forward(x), TOL, "forward after merge = plain linear with the merged weight");
        assertClose(d(adapted), layer.forward(x), TOL, "merging does not change the output");
        assertThrows(IllegalStateException.class, () -> layer.adapter().merge());

        layer.adapter().unmerge();
        assertFalse(layer.adapter().merged());
        assertArrayEquals(original, layer.weight().tensor().toFloatArray(), "unmerge restores W exactly");
        assertArrayEquals(adapted.toFloatArray(), layer.forward(x).toFloatArray(), "and the adapted output with it");
    }

    @Test
    void linearAdapterGradientsMatchFiniteDifferencesAndTheBaseStaysFrozen() {
        int in = 4;
        int out = 3;
        int rank = 2;
        Map<String, Tensor> sd = source(new int[] {out, in}, new int[] {rank, in}, new int[] {out, rank}, 3f);
        ParameterStore store = store(sd, AdapterRule.lora("layer$", rank));
        Linear layer = store.root().sub("m").linear("layer", in, out, true);
        ParameterStore.TrainableCount marked = store.setTrainable(LoraAdapter::isAdapterWeight);
        assertEquals(new ParameterStore.TrainableCount(2, rank * in + out * rank), marked);
        Tensor x = GradCheck.Rand.param(7, 2, in);
        GradCheck.check(t -> layer.forward(t[0]), x, layer.adapter().down().tensor(), layer.adapter().up().tensor());
        assertNull(layer.weight().tensor().grad(), "the frozen weight gets no gradient");
        assertNull(layer.bias().tensor().grad(), "the frozen bias gets no gradient");
    }

    // ---------------------------------------------------------------- Conv2d

    /** The adapted conv of x by hand: conv(x, W) + b + scale·conv1×1(conv(x, down), up), same geometry for W and down. */
    private static double[] convByHand(Map<String, Tensor> sd, Tensor x, int out, int rank, int k, int stride, int pt,
            int pb, int pl, int pr, double scale) {
        double[] base = conv(d(x), x.shape(), d(sd.get("m.layer.weight")), out, k, stride, pt, pb, pl, pr);
        int ho = (x.size(2) + pt + pb - k) / stride + 1;
        int wo = (x.size(3) + pl + pr - k) / stride + 1;
        base = addChannelBias(base, d(sd.get("m.layer.bias")), ho * wo);
        double[] h = conv(d(x), x.shape(), d(sd.get("m.layer.lora_down.weight")), rank, k, stride, pt, pb, pl, pr);
        double[] branch = conv(h, new int[] {x.size(0), rank, ho, wo}, d(sd.get("m.layer.lora_up.weight")), out, 1, 1,
                0, 0, 0, 0);
        return axpy(base, scale, branch);
    }

    @Test
    void stride2ConvAddsTheLoConBranch() {
        int in = 3;
        int out = 4;
        int rank = 2;
        Map<String, Tensor> sd = source(new int[] {out, in, 3, 3}, new int[] {rank, in, 3, 3},
                new int[] {out, rank, 1, 1}, 1f);
        Conv2d layer = store(sd, AdapterRule.lora("layer$", rank)).root().sub("m").conv2d("layer", in, out, 3, 2, 1);
        Tensor x = randomTensor(8, 2, in, 7, 6);
        Tensor y = layer.forward(x);
        assertArrayEquals(new int[] {2, out, 4, 3}, y.shape());
        assertClose(convByHand(sd, x, out, rank, 3, 2, 1, 1, 1, 1, 0.5), y, TOL, "stride-2 conv + LoCon");
    }

    @Test
    void bottomRightPaddedConvPadsItsAdapterAlike() {
        // the VAE downsample: pad (top 0, bottom 1, left 0, right 1), 3×3 stride 2
        int in = 2;
        int out = 3;
        int rank = 2;
        Map<String, Tensor> sd = source(new int[] {out, in, 3, 3}, new int[] {rank, in, 3, 3},
                new int[] {out, rank, 1, 1}, 4f);
        Conv2d layer = store(sd, AdapterRule.lora("layer$", rank)).root().sub("m")
                .conv2d("layer", in, out, 3, 2, 0, 1, 0, 1);
        Tensor x = randomTensor(9, 1, in, 6, 6);
        Tensor y = layer.forward(x);
        assertArrayEquals(new int[] {1, out, 3, 3}, y.shape());
        assertClose(convByHand(sd, x, out, rank, 3, 2, 0, 1, 0, 1, 2.0), y, TOL, "padded (0,1,0,1) conv + LoCon");
    }

    @Test
    void convMergeFoldsUpTimesDownIntoTheKernelAndUnmergeRestoresIt() {
        int in = 3;
        int out = 2;
        int rank = 2;
        Map<String, Tensor> sd = source(new int[] {out, in, 3, 3}, new int[] {rank, in, 3, 3},
                new int[] {out, rank, 1, 1}, 3f);
        Conv2d layer = store(sd, AdapterRule.lora("layer$", rank)).root().sub("m").conv2d("layer", in, out, 3, 2, 1);
        float[] original = layer.weight().tensor().toFloatArray();
        Tensor x = randomTensor(10, 1, in, 5, 5);
        Tensor adapted = layer.forward(x);

        // W'[o, c, ky, kx] = W + scale·Σ_r up[o, r]·down[r, c, ky, kx]: up [out, r] times down flattened [r, c·9]
        double[] merged = axpy(d(sd.get("m.layer.weight")), 1.5,
                matmul(d(sd.get("m.layer.lora_up.weight")), d(sd.get("m.layer.lora_down.weight")), out, rank, in * 9));
        layer.adapter().merge();
        assertClose(merged, layer.weight().tensor(), 1e-6, "merged kernel");
        double[] plain = addChannelBias(conv(d(x), x.shape(), merged, out, 3, 2, 1, 1, 1, 1), d(sd.get("m.layer.bias")), 9);
        assertClose(plain, layer.forward(x), TOL, "forward after merge = plain conv with the merged kernel");
        assertClose(d(adapted), layer.forward(x), TOL, "merging does not change the output");
        layer.adapter().unmerge();
        assertArrayEquals(original, layer.weight().tensor().toFloatArray(), "unmerge restores the kernel exactly");
    }

    @Test
    void convAdapterGradientsMatchFiniteDifferences() {
        int in = 2;
        int out = 3;
        int rank = 2;
        Map<String, Tensor> sd = source(new int[] {out, in, 3, 3}, new int[] {rank, in, 3, 3},
                new int[] {out, rank, 1, 1}, 1f);
        ParameterStore store = store(sd, AdapterRule.lora("layer$", rank));
        Conv2d layer = store.root().sub("m").conv2d("layer", in, out, 3, 2, 1);
        store.setTrainable(LoraAdapter::isAdapterWeight);
        Tensor x = GradCheck.Rand.param(11, 1, in, 5, 4);
        GradCheck.check(t -> layer.forward(t[0]), x, layer.adapter().down().tensor(), layer.adapter().up().tensor());
        assertNull(layer.weight().tensor().grad(), "the frozen kernel gets no gradient");
    }

    // ---------------------------------------------------------------- dropout and init

    @Test
    void dropoutActsOnTheAdapterInputInTrainingModeOnly() {
        int in = 8;
        int out = 3;
        int rank = 2;
        Map<String, Tensor> sd = source(new int[] {out, in}, new int[] {rank, in}, new int[] {out, rank}, 2f);
        ParameterStore store = store(sd, AdapterRule.lora("layer$", rank).withDropout(0.5f).withSeed(3));
        Linear layer = store.root().sub("m").linear("layer", in, out, true);
        // one-hot rows: dropout either zeroes a row's only input (no adapter output) or doubles it (inverted dropout)
        int rows = 64;
        float[] xv = new float[rows * in];
        for (int r = 0; r < rows; r++) {
            xv[r * in + r % in] = 1f;
        }
        Tensor x = Tensor.of(xv, rows, in);
        double[] base = addChannelBias(timesTransposed(d(x), d(sd.get("m.layer.weight")), rows, in, out),
                d(sd.get("m.layer.bias")), 1);
        double[] branch = timesTransposed(timesTransposed(d(x), d(sd.get("m.layer.lora_down.weight")), rows, in, rank),
                d(sd.get("m.layer.lora_up.weight")), rows, rank, out);

        assertClose(axpy(base, 1, branch), layer.forward(x), TOL, "evaluation mode: no dropout");
        store.setTraining(true);
        float[] y = layer.forward(x).toFloatArray();
        int dropped = 0;
        int doubled = 0;
        for (int r = 0; r < rows; r++) {
            boolean isDropped = true;
            boolean isDoubled = true;
            for (int o = 0; o < out; o++) {
                int i = r * out + o;
                isDropped &= Math.abs(y[i] - base[i]) <= TOL;
                isDoubled &= Math.abs(y[i] - (base[i] + 2 * branch[i])) <= TOL;
            }
            assertTrue(isDropped ^ isDoubled, "row " + r + " is either dropped or kept ×2");
            dropped += isDropped ? 1 : 0;
            doubled += isDoubled ? 1 : 0;
        }
        assertTrue(dropped > 10 && doubled > 10, "p = 0.5 drops some rows and keeps others: " + dropped + "/" + doubled);
    }

    @Test
    void newAdapterStartsAtZeroUpAndKaimingUniformDown() {
        ParameterStore store = ParameterStore.random(1).withAdapters(AdapterRule.lora("layer$", 4).withSeed(5));
        Linear plain = ParameterStore.random(1).root().sub("m").linear("layer", 256, 8, true);
        Linear layer = store.root().sub("m").linear("layer", 256, 8, true);
        LoraAdapter a = layer.adapter();
        assertArrayEquals(new int[] {4, 256}, a.down().shape());
        assertArrayEquals(new int[] {8, 4}, a.up().shape());
        assertArrayEquals(new int[0], a.alpha().shape(), "alpha is a 0-dim scalar as in kohya files");
        assertEquals(4f, a.alpha().tensor().item(), "alpha defaults to the rank (scale 1)");
        assertEquals(1f, a.scale());
        assertBoundedUniform(a.down().tensor().toFloatArray(), 1 / 16.0); // 1/√fan_in, fan_in = 256
        assertArrayEquals(new float[8 * 4], a.up().tensor().toFloatArray(), "up starts at zero");

        Tensor x = randomTensor(12, 3, 256);
        assertArrayEquals(plain.weight().tensor().toFloatArray(), layer.weight().tensor().toFloatArray(),
                "the adapter draws from its own seed, not the store's stream");
        assertArrayEquals(plain.forward(x).toFloatArray(), layer.forward(x).toFloatArray(),
                "a new adapter leaves the output unchanged");

        Conv2d conv = store.root().sub("c").conv2d("layer", 16, 8, 3, 1, 1);
        assertArrayEquals(new int[] {4, 16, 3, 3}, conv.adapter().down().shape());
        assertArrayEquals(new int[] {8, 4, 1, 1}, conv.adapter().up().shape());
        assertBoundedUniform(conv.adapter().down().tensor().toFloatArray(), 1 / 12.0); // fan_in = 16·3·3
    }

    private static void assertBoundedUniform(float[] v, double bound) {
        double max = 0;
        for (float f : v) {
            max = Math.max(max, Math.abs(f));
        }
        assertTrue(max <= bound, "all within ±" + bound + ", max " + max);
        assertTrue(max > 0.95 * bound, "reaching the bound: max " + max + " of " + bound);
    }

    @Test
    void gaussianDownHasStandardDeviationOneOverRank() {
        int rank = 4;
        ParameterStore store = ParameterStore.random(1).withAdapters(
                AdapterRule.lora("layer$", rank).withInit(AdapterRule.DownInit.GAUSSIAN));
        float[] v = store.root().sub("m").linear("layer", 1024, 8, false).adapter().down().tensor().toFloatArray();
        double sum = 0;
        double sumSq = 0;
        for (float f : v) {
            sum += f;
            sumSq += (double) f * f;
        }
        double mean = sum / v.length;
        double std = Math.sqrt(sumSq / v.length - mean * mean);
        // 4096 samples: the sample std is within ~1.1% (one standard error) of 1/rank; 5% is > 4 standard errors
        assertEquals(1.0 / rank, std, 0.05 / rank, "std of N(0, (1/r)²)");
        assertEquals(0, mean, 4 * (1.0 / rank) / Math.sqrt(v.length), "mean 0");
    }

    @Test
    void badRulesAndRanksSayWhatToChange() {
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class, () -> AdapterRule.lora("x", 0));
        assertTrue(rank.getMessage().startsWith("adapter rank must be positive, got 0"), rank.getMessage());
        IllegalArgumentException drop = assertThrows(IllegalArgumentException.class,
                () -> AdapterRule.lora("x", 2).withDropout(1f));
        assertTrue(drop.getMessage().startsWith("adapter dropout must be in [0, 1), got 1.0"), drop.getMessage());

        // a file of rank 3 loaded with a rule of rank 2
        Map<String, Tensor> sd = source(new int[] {4, 5}, new int[] {3, 5}, new int[] {4, 3}, 3f);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> store(sd, AdapterRule.lora("layer$", 2)).root().sub("m").linear("layer", 5, 4, true));
        assertEquals("test state dict: tensor 'm.layer.lora_down.weight' has shape [3, 5] but the model expects [2, 5];"
                + " set the adapter rule's rank to the file's (dim 0 of lora_down, dim 1 of lora_up)", shape.getMessage());
    }
}
