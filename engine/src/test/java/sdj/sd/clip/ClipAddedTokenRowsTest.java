package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.Parameter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.Tensor;

/** Embedding rows for added tokens ({@code <new1>}) on the sd-tiny text encoder. */
class ClipAddedTokenRowsTest {
    private static final int KTN = 42170;
    private static final int PLL = 47629;
    private static StableDiffusionModel model;

    @BeforeAll
    static void load() {
        model = fresh();
    }

    private static Tensor rows(int... ids) {
        Tensor table = model.clip().tokenEmbedding();
        int w = table.size(1);
        float[] all = table.toFloatArray();
        float[] out = new float[ids.length * w];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(all, ids[i] * w, out, i * w, w);
        }
        return Tensor.of(out, ids.length, w);
    }

    @Test
    void addedRowsGiveExactlyTheContextOfTheTokensTheyCopy() throws Exception {
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        assertEquals(49408, tok.addToken("<new1>"));
        assertEquals(49409, tok.addToken("<new2>"));
        var m = fresh();
        Parameter added = m.clip().addTokenRows(rows(KTN, PLL));
        assertArrayEquals(new int[] {2, 64}, added.shape());
        Tensor withAdded = m.clip().forward(ids(tok, "photo of a <new1> cat", "a <new2> dog on <new1>"));
        Tensor withBase = m.clip().forward(baseIds(tok, "photo of a <new1> cat", "a <new2> dog on <new1>"));
        assertArrayEquals(withBase.toFloatArray(), withAdded.toFloatArray(), 0f, "bit-identical context");
    }

    @Test
    void gradientReachesOnlyTheAddedRowsUsedAndEqualsTheBaseRowsGradient() throws Exception {
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        tok.addToken("<new1>");
        tok.addToken("<new2>");
        var m = fresh();
        Parameter added = m.clip().addTokenRows(rows(KTN, PLL));
        added.trainable(true);
        Tensor weights = randomLike(2 * 77 * 64, 5);
        Tensor ctx = m.clip().forward(ids(tok, "photo of a <new1> cat", "a <new1> on grass"));
        ctx.mul(weights.reshape(2, 77, 64)).sum().backward();
        assertNull(m.clip().tokenEmbedding().grad(), "the base table stays frozen");
        float[] g = added.tensor().grad().toFloatArray();

        // the same loss with the plain table trainable: row KTN's gradient must be the added row's
        var base = fresh();
        var table = base.store().handles().get(ClipTextModel.PREFIX + ".embeddings.token_embedding.weight");
        table.trainable(true);
        Tensor ctx2 = base.clip().forward(baseIds(tok, "photo of a <new1> cat", "a <new1> on grass"));
        ctx2.mul(weights.reshape(2, 77, 64)).sum().backward();
        float[] gt = table.tensor().grad().toFloatArray();
        float maxAbs = 0;
        for (int j = 0; j < 64; j++) {
            assertEquals(gt[KTN * 64 + j], g[j], 1e-6f * Math.max(1f, Math.abs(gt[KTN * 64 + j])), "element " + j);
            maxAbs = Math.max(maxAbs, Math.abs(g[j]));
            assertEquals(0f, g[64 + j], 0f, "<new2> is not in the prompts: no gradient");
        }
        assertTrue(maxAbs > 1e-4, "a real gradient reached <new1>'s row: " + maxAbs);

        // and a central finite difference on one element of the added row
        int j = 7;
        double h = 1e-2;
        double lossPlus = lossWithRow0Shift(tok, weights, j, h);
        double lossMinus = lossWithRow0Shift(tok, weights, j, -h);
        assertEquals((lossPlus - lossMinus) / (2 * h), g[j], 2e-2 * Math.abs(g[j]) + 1e-3);
    }

    private static double lossWithRow0Shift(ClipTokenizer tok, Tensor weights, int j, double h) {
        var m = fresh();
        Tensor r = rows(KTN, PLL);
        float[] v = r.toFloatArray();
        v[j] += (float) h;
        m.clip().addTokenRows(Tensor.of(v, 2, 64));
        Tensor ctx = m.clip().forward(ids(tok, "photo of a <new1> cat", "a <new1> on grass"));
        double sum = 0;
        float[] c = ctx.toFloatArray();
        float[] w = weights.toFloatArray();
        for (int i = 0; i < c.length; i++) {
            sum += (double) c[i] * w[i];
        }
        return sum;
    }

    @Test
    void idsBeyondTheAddedRowsAreRejectedInOneSentence() throws Exception {
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        tok.addToken("<new1>");
        tok.addToken("<new2>");
        var m = fresh();
        m.clip().addTokenRows(rows(KTN));
        var e = assertThrows(IllegalArgumentException.class, () -> m.clip().forward(ids(tok, "a <new2>")));
        assertTrue(e.getMessage().contains("49409") && e.getMessage().contains("addTokenRows"), e.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> m.clip().addTokenRows(Tensor.zeros(1, 32)));
        assertTrue(shape.getMessage().contains("[n, 64]"), shape.getMessage());
    }

    @Test
    void aSecondCallAppendsAfterTheFirstRows() throws Exception {
        var m = fresh();
        m.clip().addTokenRows(rows(KTN));
        Parameter both = m.clip().addTokenRows(rows(PLL));
        assertArrayEquals(rows(KTN, PLL).toFloatArray(), both.tensor().toFloatArray(), 0f);
    }

    private static StableDiffusionModel fresh() {
        try {
            return StableDiffusionModel.fromStateDict(StateDicts.load(TestData.sdTiny("model.ckpt")),
                    ModelConfigFiles.read(Path.of("../models/sd-tiny.json")), "model.ckpt");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Tensor ids(ClipTokenizer tok, String... prompts) {
        long[] out = new long[prompts.length * 77];
        for (int b = 0; b < prompts.length; b++) {
            int[] one = tok.encode77(prompts[b]);
            for (int i = 0; i < 77; i++) {
                out[b * 77 + i] = one[i];
            }
        }
        return Tensor.ofLongs(out, prompts.length, 77);
    }

    /**
     * The same prompts with {@code <new1>}/{@code <new2>} replaced by the vocabulary ids their rows copy
     * (42170 is the BPE piece "ktn" without end-of-word, so no plain text encodes to it alone).
     */
    private static Tensor baseIds(ClipTokenizer tok, String... prompts) {
        long[] v = ids(tok, prompts).toLongArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] == 49408 ? KTN : v[i] == 49409 ? PLL : v[i];
        }
        return Tensor.ofLongs(v, prompts.length, 77);
    }

    private static Tensor randomLike(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, n);
    }
}
