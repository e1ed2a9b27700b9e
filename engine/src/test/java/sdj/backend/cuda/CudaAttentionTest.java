package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.emulated;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import sdj.tensor.DType;

/**
 * Fused attention forward and backward against the textbook computation (full score matrix,
 * softmax, weighted sum) on [B, H, N, D] tensors and on [B, N, H*D] linear outputs.
 */
class CudaAttentionTest {
    /** The log-sum-exp is computed and kept in fp32 whatever the input dtype. */
    private static final float LSE_TOLERANCE = 1e-4f;

    /**
     * Results of the reference: o and the three gradients, all in q/k/v's own [B, H, N, D] layout, and
     * the row log-sum-exp of the scaled scores [B*H, Nq] (what the forward saves for the backward).
     */
    record Reference(float[] o, float[] dq, float[] dk, float[] dv, float[] lse) {
    }

    /** The textbook computation; with {@code dout} null only o and lse (the gradients stay 0). */
    static Reference reference(float[] q, float[] k, float[] v, float[] dout, int bh, int nq, int nk, int d, float scale,
                               boolean causal) {
        float[] o = new float[bh * nq * d];
        float[] dq = new float[bh * nq * d];
        float[] dk = new float[bh * nk * d];
        float[] dv = new float[bh * nk * d];
        float[] lse = new float[bh * nq];
        double[] p = new double[nk];
        double[] dp = new double[nk];
        for (int h = 0; h < bh; h++) {
            int qb = h * nq * d;
            int kb = h * nk * d;
            for (int i = 0; i < nq; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < nk; j++) {
                    if (causal && j > i) {
                        p[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double s = 0;
                    for (int e = 0; e < d; e++) {
                        s += q[qb + i * d + e] * k[kb + j * d + e];
                    }
                    p[j] = scale * s;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < nk; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                lse[h * nq + i] = (float) (max + Math.log(sum));
                if (dout == null) { // forward only
                    for (int j = 0; j < nk; j++) {
                        for (int e = 0; e < d; e++) {
                            o[qb + i * d + e] += (float) (p[j] / sum * v[kb + j * d + e]);
                        }
                    }
                    continue;
                }
                double rowDot = 0; // Σ_j P_ij dP_ij
                for (int j = 0; j < nk; j++) {
                    p[j] /= sum;
                    double s = 0;
                    for (int e = 0; e < d; e++) {
                        s += dout[qb + i * d + e] * v[kb + j * d + e];
                    }
                    dp[j] = s;
                    rowDot += p[j] * s;
                }
                for (int j = 0; j < nk; j++) {
                    double ds = p[j] * (dp[j] - rowDot);
                    for (int e = 0; e < d; e++) {
                        o[qb + i * d + e] += (float) (p[j] * v[kb + j * d + e]);
                        dq[qb + i * d + e] += (float) (scale * ds * k[kb + j * d + e]);
                        dk[kb + j * d + e] += (float) (scale * ds * q[qb + i * d + e]);
                        dv[kb + j * d + e] += (float) (p[j] * dout[qb + i * d + e]);
                    }
                }
            }
        }
        return new Reference(o, dq, dk, dv, lse);
    }

    @ParameterizedTest
    @CsvSource({"F32,false", "F32,true", "F16,false", "F16,true", "BF16,false", "BF16,true"})
    void selfAttentionDim40(DType dtype, boolean causal) {
        CudaOps ops = opsOrSkip();
        // SD's 32x32 self-attention on a GPU; on the emulator 3 heads of 150 tokens (tiles of 16 rows
        // and 32 keys with a tail of 22, one block row across each head's end).
        int heads = emulated() ? 3 : 8;
        int n = emulated() ? 150 : 1024;
        int d = 40;
        float scale = (float) (1 / Math.sqrt(d));
        float[] q = rounded(random(61, heads * n * d, 2f), dtype);
        float[] k = rounded(random(62, heads * n * d, 2f), dtype);
        float[] v = rounded(random(63, heads * n * d, 1f), dtype);
        float[] dout = rounded(random(64, heads * n * d, 1f), dtype);
        Reference ref = reference(q, k, v, dout, heads, n, n, d, scale, causal);
        try (CudaTensor dq = upload(ops, q, dtype, 1, heads, n, d); CudaTensor dk = upload(ops, k, dtype, 1, heads, n, d);
             CudaTensor dv = upload(ops, v, dtype, 1, heads, n, d);
             CudaTensor dO = upload(ops, dout, dtype, 1, heads, n, d);
             CudaOps.AttentionResult r = ops.attention(dq, dk, dv, scale, causal)) {
            String what = "attention causal=" + causal;
            assertClose(ref.o(), r.out().toFloatArray(), dtype, what);
            assertClose(ref.lse(), r.lse().toFloatArray(), LSE_TOLERANCE, what + " lse " + dtype);
            CudaOps.AttentionGrads g = ops.attentionBackward(dq, dk, dv, r, dO, 0, scale, causal);
            assertClose(ref.dq(), g.dq().toFloatArray(), dtype, what + " dq");
            assertClose(ref.dk(), g.dk().toFloatArray(), dtype, what + " dk");
            assertClose(ref.dv(), g.dv().toFloatArray(), dtype, what + " dv");
        }
    }

    /**
     * Cross-attention from linear outputs: q [B, 256, 8*160], k/v [B, 77, 8*160] (head dim 160 needs
     * > 48 KB smem); on the emulator q [B, 70, 2*160].
     */
    @ParameterizedTest
    @CsvSource({"F32", "F16", "BF16"})
    void crossAttentionOnLinearLayoutWithHeadDim160(DType dtype) {
        CudaOps ops = opsOrSkip();
        int b = 2;
        int heads = emulated() ? 2 : 8;
        int nq = emulated() ? 70 : 256;
        int nk = 77;
        int d = 160;
        float scale = (float) (1 / Math.sqrt(d));
        float[] q = rounded(random(65, b * nq * heads * d, 1f), dtype);
        float[] k = rounded(random(66, b * nk * heads * d, 1f), dtype);
        float[] v = rounded(random(67, b * nk * heads * d, 1f), dtype);
        float[] dout = rounded(random(68, b * nq * heads * d, 1f), dtype);
        Reference ref = reference(toHeads(q, b, nq, heads, d), toHeads(k, b, nk, heads, d), toHeads(v, b, nk, heads, d),
                toHeads(dout, b, nq, heads, d), b * heads, nq, nk, d, scale, false);
        try (CudaTensor dq = upload(ops, q, dtype, b, nq, heads * d); CudaTensor dk = upload(ops, k, dtype, b, nk, heads * d);
             CudaTensor dv = upload(ops, v, dtype, b, nk, heads * d);
             CudaTensor dO = upload(ops, dout, dtype, b, nq, heads * d);
             CudaOps.AttentionResult r = ops.attention(dq, dk, dv, heads, scale, false)) {
            assertClose(ref.o(), toHeads(r.out().toFloatArray(), b, nq, heads, d), dtype, "cross-attention");
            assertClose(ref.lse(), r.lse().toFloatArray(), LSE_TOLERANCE, "cross-attention lse " + dtype);
            CudaOps.AttentionGrads g = ops.attentionBackward(dq, dk, dv, r, dO, heads, scale, false);
            assertClose(ref.dq(), toHeads(g.dq().toFloatArray(), b, nq, heads, d), dtype, "cross-attention dq");
            assertClose(ref.dk(), toHeads(g.dk().toFloatArray(), b, nk, heads, d), dtype, "cross-attention dk");
            assertClose(ref.dv(), toHeads(g.dv().toFloatArray(), b, nk, heads, d), dtype, "cross-attention dv");
        }
    }

    /**
     * The forward on the shapes the tensor-core kernel (fp16/bf16) must get right: SD's head dims 40,
     * 80, 160 (160 stages V in K's buffer) 24 and 72 (padded to 32 and 80 with zeros), causal self-attention and
     * cross-attention to 77 keys, token counts that leave partial 64-row blocks and 64-key tiles, on
     * [B, H, N, D] tensors and on [B, N, H*D] linear outputs. fp32 runs the SIMT kernel on the same
     * cases. O is held to the dtype's tolerance; the fp32 log-sum-exp of the scaled scores (the
     * backward's input) to the fp32 one.
     */
    @ParameterizedTest(name = "{0} d={1} {2}")
    @MethodSource("forwardCases")
    void forwardMatchesReference(DType dtype, int d, String kind) {
        CudaOps ops = opsOrSkip();
        int b = 2;
        int heads = emulated() ? 2 : 8;
        boolean causal = kind.startsWith("causal");
        boolean linear = kind.endsWith("linear");
        int nq = emulated() ? 130 : 600;
        int nk = kind.startsWith("cross") ? 77 : nq;
        float scale = (float) (1 / Math.sqrt(d));
        long seed = 100L * d + kind.hashCode();
        float[] q = rounded(random(seed, b * heads * nq * d, 2f), dtype);
        float[] k = rounded(random(seed + 1, b * heads * nk * d, 2f), dtype);
        float[] v = rounded(random(seed + 2, b * heads * nk * d, 1f), dtype);
        // The reference works on [B*H, N, D]; the linear layout holds the same values as [B, N, H*D].
        Reference ref = reference(q, k, v, null, b * heads, nq, nk, d, scale, causal);
        float[] qIn = linear ? toTokens(q, b, nq, heads, d) : q;
        float[] kIn = linear ? toTokens(k, b, nk, heads, d) : k;
        float[] vIn = linear ? toTokens(v, b, nk, heads, d) : v;
        int[] qShape = linear ? new int[] {b, nq, heads * d} : new int[] {b, heads, nq, d};
        int[] kShape = linear ? new int[] {b, nk, heads * d} : new int[] {b, heads, nk, d};
        try (CudaTensor dq = upload(ops, qIn, dtype, qShape); CudaTensor dk = upload(ops, kIn, dtype, kShape);
             CudaTensor dv = upload(ops, vIn, dtype, kShape);
             CudaOps.AttentionResult r = linear ? ops.attention(dq, dk, dv, heads, scale, causal)
                     : ops.attention(dq, dk, dv, scale, causal)) {
            String what = "attention d=" + d + " " + kind + " nq=" + nq + " nk=" + nk;
            float[] out = r.out().toFloatArray();
            assertClose(ref.o(), linear ? toHeads(out, b, nq, heads, d) : out, dtype, what);
            assertClose(ref.lse(), r.lse().toFloatArray(), LSE_TOLERANCE, what + " lse " + dtype);
        }
    }

    static Stream<Arguments> forwardCases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            for (int d : new int[] {24, 40, 72, 80, 160}) {
                for (String kind : new String[] {"causal", "causal linear", "self linear", "cross", "cross linear"}) {
                    cases.add(Arguments.of(dtype, d, kind));
                }
            }
        }
        cases.add(Arguments.of(DType.F16, 256, "cross linear")); // the largest head dim, V in K's buffer
        for (String kind : new String[] {"causal", "cross linear"}) {
            cases.add(Arguments.of(DType.F32, 72, kind));
        }
        return cases.build();
    }

    /** The tensor-core forward's shared memory fits an A100 (163 KB per block) for every head dim. */
    @Test
    void tensorCoreForwardSharedMemoryFitsAnA100() {
        for (int d = 1; d <= 256; d++) {
            int bytes = AttentionOps.tcSharedBytes(d);
            assertTrue(bytes <= 163 * 1024, "head dim " + d + " needs " + bytes + " bytes");
        }
        assertEquals(61_440, AttentionOps.tcSharedBytes(40)); // the sum spelled out in attention.cu
    }

    /** [B, H, N, D] → [B, N, H*D] (the inverse of {@link #toHeads}). */
    static float[] toTokens(float[] x, int b, int n, int heads, int d) {
        float[] out = new float[x.length];
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(x, ((bi * heads + h) * n + t) * d, out, ((bi * n + t) * heads + h) * d, d);
                }
            }
        }
        return out;
    }

    /** [B, N, H*D] → [B, H, N, D]. */
    static float[] toHeads(float[] x, int b, int n, int heads, int d) {
        float[] out = new float[x.length];
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(x, ((bi * n + t) * heads + h) * d, out, ((bi * heads + h) * n + t) * d, d);
                }
            }
        }
        return out;
    }
}
