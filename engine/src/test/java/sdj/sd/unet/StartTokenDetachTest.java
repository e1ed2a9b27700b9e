package sdj.sd.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.Tensor;

/**
 * Custom Diffusion's start-token detach in attn2: the UNet's output is bit-identical, no gradient reaches context
 * position 0 (the context feeds only attn2's k and v), the other positions' gradients are unchanged, and the k/v
 * weight gradients lose position 0's term.
 */
class StartTokenDetachTest {
    @Test
    void detachesOnlyPositionZeroOfCrossAttentionKeysAndValues() throws Exception {
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(StateDicts.load(TestData.sdTiny("model.ckpt")),
                ModelConfigFiles.read(Path.of("../models/sd-tiny.json")), "model.ckpt");
        String toK = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";
        model.store().setTrainable(toK::equals);
        Tensor x = random(7, 1, 4, 8, 8);
        Tensor ctx = random(8, 1, 77, 64);
        Tensor weights = random(9, 1, 4, 8, 8);
        Run off = run(model, x, ctx, weights, toK, false);
        Run on = run(model, x, ctx, weights, toK, true);
        assertArrayEquals(off.eps, on.eps, 0f, "forward values are unchanged");
        for (int j = 0; j < 64; j++) {
            assertEquals(0f, on.ctxGrad[j], 0f, "no gradient through the start token");
        }
        assertTrue(maxAbs(off.ctxGrad, 0, 64) > 1e-6, "without the detach position 0 has a gradient");
        for (int i = 64; i < 77 * 64; i++) {
            assertEquals(off.ctxGrad[i], on.ctxGrad[i], 1e-6 * maxAbs(off.ctxGrad, 64, 77 * 64), "position " + i / 64);
        }
        double diff = 0;
        for (int i = 0; i < on.kGrad.length; i++) {
            diff = Math.max(diff, Math.abs(on.kGrad[i] - off.kGrad[i]));
        }
        assertTrue(diff > 1e-3 * maxAbs(off.kGrad, 0, off.kGrad.length), "the to_k gradient changes: " + diff);
        model.store().setTrainable(n -> false);
    }

    private record Run(float[] eps, float[] ctxGrad, float[] kGrad) {
    }

    private static Run run(StableDiffusionModel model, Tensor x, Tensor ctx, Tensor weights, String toK, boolean on) {
        model.unet().setDetachStartTokenKeyValue(on);
        Tensor c = Tensor.of(ctx.toFloatArray(), ctx.shape()).requiresGrad(true);
        Tensor eps = model.unet().forward(x, new float[] {500}, c);
        eps.mul(weights).sum().backward();
        Tensor k = model.store().parameters().get(toK);
        float[] kGrad = k.grad().toFloatArray();
        k.zeroGrad();
        model.unet().setDetachStartTokenKeyValue(false);
        return new Run(eps.toFloatArray(), c.grad().toFloatArray(), kGrad);
    }

    private static double maxAbs(float[] v, int from, int to) {
        double m = 0;
        for (int i = from; i < to; i++) {
            m = Math.max(m, Math.abs(v[i]));
        }
        return m;
    }

    private static Tensor random(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, shape);
    }
}
