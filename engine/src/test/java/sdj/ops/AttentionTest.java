package sdj.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class AttentionTest {
    private static final double FP32 = 1e-5;

    /**
     * Naive attention in double for q [B,H,Nq,d], k [B,H,Nk,d], v [B,H,Nk,dv]: explicit scores, causal
     * mask (query i sees keys j ≤ i + Nk − Nq, bottom-right aligned as documented in Attention), explicit
     * softmax, weighted sum of values.
     */
    static double[] naiveAttention(Tensor q, Tensor k, Tensor v, boolean causal) {
        int heads = q.size(0) * q.size(1);
        int nq = q.size(2);
        int nk = k.size(2);
        int d = q.size(3);
        int dv = v.size(3);
        double scale = 1 / Math.sqrt(d);
        double[] qv = OpAssert.doubles(q);
        double[] kv = OpAssert.doubles(k);
        double[] vv = OpAssert.doubles(v);
        double[] out = new double[heads * nq * dv];
        double[] p = new double[nk];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < nq; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < nk; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += qv[(h * nq + i) * d + c] * kv[(h * nk + j) * d + c];
                    }
                    p[j] = causal && j > i + nk - nq ? Double.NEGATIVE_INFINITY : s * scale;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < nk; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                for (int c = 0; c < dv; c++) {
                    double o = 0;
                    for (int j = 0; j < nk; j++) {
                        o += p[j] / sum * vv[(h * nk + j) * dv + c];
                    }
                    out[(h * nq + i) * dv + c] = o;
                }
            }
        }
        return out;
    }

    private static void checkForward(int b, int h, int nq, int nk, int d, int dv, boolean causal) {
        Tensor q = Rand.uniform(1, b, h, nq, d);
        Tensor k = Rand.uniform(2, b, h, nk, d);
        Tensor v = Rand.uniform(3, b, h, nk, dv);
        assertValues(naiveAttention(q, k, v, causal), shape(b, h, nq, dv), F.attention(q, k, v, causal), FP32);
    }

    @Test
    void handValues() {
        // q·k = 0 for both keys -> uniform weights -> mean of the values
        Tensor q = t(shape(1, 1, 1, 2), 1, 0);
        Tensor k = t(shape(1, 1, 2, 2), 0, 1, 0, -1);
        Tensor v = t(shape(1, 1, 2, 1), 2, 6);
        assertValues(new double[] {4}, shape(1, 1, 1, 1), F.attention(q, k, v, false), FP32);
        // causal with Nq = Nk = 2: the first query sees only the first value
        Tensor q2 = t(shape(1, 1, 2, 2), 1, 0, 1, 0);
        assertValues(new double[] {2, 4}, shape(1, 1, 2, 1), F.attention(q2, k, v, true), FP32);
    }

    @ParameterizedTest(name = "causal={0}")
    @ValueSource(booleans = {false, true})
    void forwardAgainstNaive(boolean causal) {
        checkForward(2, 2, 5, 5, 4, 4, causal);
        checkForward(1, 2, 5, 7, 4, 3, false); // cross-attention shapes, Nq ≠ Nk, dv ≠ d
        checkForward(1, 2, 6, 9, 260, 3, false); // a head size deeper than one of the packed Kᵀ's 256-row blocks
    }

    @Test
    void causalMaskWithFewerOrMoreKeysThanQueriesIsRefused() {
        Tensor q = Rand.uniform(1, 1, 1, 5, 4);
        for (int nk : new int[] {3, 7}) {
            Tensor k = Rand.uniform(2, 1, 1, nk, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.attention(q, k, k, true));
            assertEquals("causal attention needs as many keys as queries, got q [1, 1, 5, 4] and k [1, 1, " + nk
                    + ", 4]", e.getMessage());
        }
    }

    @ParameterizedTest(name = "causal={0}")
    @ValueSource(booleans = {false, true})
    void forwardAcrossQueryBlocks(boolean causal) {
        // 300 queries span two of the CPU's 256-row query blocks
        checkForward(1, 2, 300, 300, 8, 8, causal);
        checkForward(1, 1, 300, 77, 8, 4, false); // long image sequence attending to a text context
    }

    @ParameterizedTest(name = "causal={0}")
    @ValueSource(booleans = {false, true})
    void gradients(boolean causal) {
        GradCheck.check(in -> F.attention(in[0], in[1], in[2], causal), Rand.param(4, 1, 2, 4, 3),
                Rand.param(5, 1, 2, 4, 3), Rand.param(6, 1, 2, 4, 2));
        GradCheck.check(in -> F.attention(in[0], in[1], in[2], false), Rand.param(7, 2, 1, 3, 4),
                Rand.param(8, 2, 1, 5, 4), Rand.param(9, 2, 1, 5, 3)); // Nq ≠ Nk: no causal mask
    }

    /**
     * Across query blocks a finite-difference check is too slow, so the blocked, recomputing backward is
     * compared with autograd through the plain composition softmax(q·kᵀ·scale + mask)·v, whose ops are each
     * gradient-checked on their own.
     */
    @ParameterizedTest(name = "causal={0}")
    @ValueSource(booleans = {false, true})
    void backwardAcrossQueryBlocksMatchesComposedOps(boolean causal) {
        int n = 300;
        int d = 4;
        Tensor[] fused = {Rand.param(10, 1, 2, n, d), Rand.param(11, 1, 2, n, d), Rand.param(12, 1, 2, n, d)};
        Tensor[] composed = {Rand.param(10, 1, 2, n, d), Rand.param(11, 1, 2, n, d), Rand.param(12, 1, 2, n, d)};
        Tensor w = Rand.uniform(13, 1, 2, n, d);
        F.attention(fused[0], fused[1], fused[2], causal).mul(w).sum().backward();
        float[] mask = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n && causal; j++) {
                mask[i * n + j] = Float.NEGATIVE_INFINITY;
            }
        }
        Tensor scores = composed[0].matmul(composed[1].transpose(-1, -2)).mul((float) (1 / Math.sqrt(d)));
        F.softmax(scores.add(Tensor.of(mask, n, n))).matmul(composed[2]).mul(w).sum().backward();
        for (int i = 0; i < 3; i++) {
            assertValues(OpAssert.doubles(composed[i].grad()), fused[i].grad(), 1e-4);
        }
    }

    /** No queries: the keys and values get zero gradients, even where earlier backwards left their scratch dirty. */
    @Test
    void noQueriesGiveZeroKeyAndValueGradients() {
        Tensor k0 = Rand.uniform(41, 1, 2, 3, 4).requiresGrad(true);
        Tensor v0 = Rand.uniform(42, 1, 2, 3, 4).requiresGrad(true);
        Attention.sdpa(Rand.uniform(43, 1, 2, 5, 4), k0, v0, false).sum().backward(); // same scratch sizes
        Tensor k = Rand.uniform(44, 1, 2, 3, 4).requiresGrad(true);
        Tensor v = Rand.uniform(45, 1, 2, 3, 4).requiresGrad(true);
        Tensor y = Attention.sdpa(Tensor.of(new float[0], 1, 2, 0, 4), k, v, false);
        assertEquals(0, y.numel());
        y.backward(Tensor.of(new float[0], 1, 2, 0, 4));
        assertValues(new double[24], shape(1, 2, 3, 4), k.grad(), 0);
        assertValues(new double[24], shape(1, 2, 3, 4), v.grad(), 0);
    }
}
