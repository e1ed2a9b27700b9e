package sdj.sd.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import sdj.tensor.Tensor;

class CfgEpsModelTest {
    /** Records every call; ε = x·(1 + context[b,0,0]) + t/1000, so each row's context shows in its output. */
    private static final class Recorder implements ConditionalEpsModel {
        final List<Tensor> xs = new ArrayList<>();
        final List<float[]> ts = new ArrayList<>();
        final List<Tensor> contexts = new ArrayList<>();

        @Override
        public Tensor eps(Tensor x, float[] timesteps, Tensor context) {
            xs.add(x);
            ts.add(timesteps.clone());
            contexts.add(context);
            int b = x.size(0);
            int per = (int) (x.numel() / b);
            float[] v = x.toFloatArray();
            float[] out = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                int row = i / per;
                out[i] = v[i] * (1 + context.get(row, 0, 0)) + timesteps[row] / 1000f;
            }
            return Tensor.of(out, x.shape());
        }
    }

    private static Tensor context(int rows) {
        float[] c = new float[rows * 3 * 2];
        for (int r = 0; r < rows; r++) {
            c[r * 6] = r + 1; // rows 0..B-1 uncond, B..2B-1 cond
        }
        return Tensor.of(c, rows, 3, 2);
    }

    @Test
    void runsOneDoubledBatchAndCombinesUncondAndCond() {
        Recorder rec = new Recorder();
        Tensor ctx = context(4); // B = 2
        float scale = 7.5f;
        CfgEpsModel cfg = new CfgEpsModel(rec, ctx, scale);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3, 1, 1);
        float[] t = {981, 961};
        float[] out = cfg.eps(x, t).floats();

        assertEquals(1, rec.xs.size(), "exactly one model call");
        assertArrayEquals(new int[] {4, 3, 1, 1}, rec.xs.get(0).shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, rec.xs.get(0).floats());
        assertArrayEquals(new float[] {981, 961, 981, 961}, rec.ts.get(0));
        assertSame(ctx, rec.contexts.get(0));

        float[] xv = x.floats();
        for (int i = 0; i < 6; i++) {
            int b = i / 3;
            float uncond = xv[i] * (1 + (b + 1)) + t[b] / 1000f;
            float cond = xv[i] * (1 + (b + 3)) + t[b] / 1000f;
            assertEquals(uncond + scale * (cond - uncond), out[i], 1e-4f);
        }
    }

    @Test
    void scaleOneSkipsTheUnconditionalHalf() {
        Recorder rec = new Recorder();
        CfgEpsModel cfg = new CfgEpsModel(rec, context(2), 1f);
        Tensor x = Tensor.of(new float[] {1, 2}, 1, 2, 1, 1);
        float[] out = cfg.eps(x, new float[] {10}).floats();
        assertEquals(1, rec.xs.size());
        assertEquals(1, rec.xs.get(0).size(0));
        assertEquals(2f, rec.contexts.get(0).get(0, 0, 0)); // the cond row
        assertArrayEquals(new float[] {1 * 3 + 0.01f, 2 * 3 + 0.01f}, out, 1e-6f);
    }

    @Test
    void mismatchedBatchesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new CfgEpsModel(new Recorder(), context(3), 7.5f));
        CfgEpsModel cfg = new CfgEpsModel(new Recorder(), context(4), 7.5f);
        Tensor x = Tensor.of(new float[3], 3, 1, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> cfg.eps(x, new float[] {1, 1, 1}));
    }
}
