package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.ops.F;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/** LayerNorm and GroupNorm (with and without the fused SiLU), forward and backward. */
class CudaNormTest {
    /**
     * Normalises each of {@code groups} contiguous runs of {@code count} values; channel of element i
     * in its run is (i / inner) % channels. Returns y and fills dx, dgamma, dbeta for the given dy.
     */
    static float[] normReference(float[] x, float[] gamma, float[] beta, float[] dy, int groups, int count, int inner,
                                 int channelsPerRun, int channelBase, float eps, boolean silu, float[] dx,
                                 float[] dgamma, float[] dbeta, boolean channelFromRun) {
        float[] y = new float[x.length];
        for (int gidx = 0; gidx < groups; gidx++) {
            int base = gidx * count;
            double mean = 0;
            for (int i = 0; i < count; i++) {
                mean += x[base + i];
            }
            mean /= count;
            double var = 0;
            for (int i = 0; i < count; i++) {
                var += (x[base + i] - mean) * (x[base + i] - mean);
            }
            double rstd = 1 / Math.sqrt(var / count + eps);
            double[] dh = new double[count];
            double[] h = new double[count];
            double sumDh = 0;
            double sumDhH = 0;
            for (int i = 0; i < count; i++) {
                int c = channelFromRun ? (gidx % channelBase) * channelsPerRun + i / inner : i;
                h[i] = (x[base + i] - mean) * rstd;
                double z = h[i] * gamma[c] + beta[c];
                double s = 1 / (1 + Math.exp(-z));
                y[base + i] = (float) (silu ? z * s : z);
                double dz = dy[base + i] * (silu ? s * (1 + z * (1 - s)) : 1);
                dgamma[c] += (float) (dz * h[i]);
                dbeta[c] += (float) dz;
                dh[i] = dz * gamma[c];
                sumDh += dh[i];
                sumDhH += dh[i] * h[i];
            }
            for (int i = 0; i < count; i++) {
                dx[base + i] = (float) (rstd * (dh[i] - sumDh / count - h[i] * sumDhH / count));
            }
        }
        return y;
    }

    @ParameterizedTest
    @CsvSource({"F32,false", "F32,true", "F16,false", "F16,true", "BF16,false", "BF16,true"})
    void groupNorm32GroupsOnSdActivation(DType dtype, boolean silu) {
        CudaOps ops = opsOrSkip();
        int n = 2;
        int c = 320;
        int hw = 64 * 64;
        int groups = 32;
        int cpg = c / groups;
        float[] x = random(21, n * c * hw, 3f);
        for (int i = 0; i < x.length; i++) {
            x[i] += 1.5f; // a non-zero mean, as real activations have
        }
        x = rounded(x, dtype);
        float[] gamma = rounded(random(22, c, 1f), dtype);
        float[] beta = rounded(random(23, c, 1f), dtype);
        float[] dy = rounded(random(24, x.length, 1f), dtype);
        float[] dx = new float[x.length];
        float[] dgamma = new float[c];
        float[] dbeta = new float[c];
        float[] y = normReference(x, gamma, beta, dy, n * groups, cpg * hw, hw, cpg, groups, 1e-5f, silu, dx, dgamma,
                dbeta, true);
        try (CudaTensor dX = upload(ops, x, dtype, n, c, 64, 64); CudaTensor dG = upload(ops, gamma, dtype, c);
             CudaTensor dB = upload(ops, beta, dtype, c); CudaTensor dDy = upload(ops, dy, dtype, n, c, 64, 64);
             CudaOps.NormResult r = ops.groupNorm(dX, groups, dG, dB, 1e-5f, silu)) {
            assertClose(y, r.y().toFloatArray(), dtype, "group_norm silu=" + silu);
            CudaOps.NormGrads g = ops.groupNormBackward(dX, groups, dG, dB, r, dDy, silu, true);
            assertClose(dx, g.dx().toFloatArray(), dtype, "group_norm dx silu=" + silu);
            assertClose(dgamma, g.dgamma().toFloatArray(), dtype, "group_norm dgamma silu=" + silu);
            assertClose(dbeta, g.dbeta().toFloatArray(), dtype, "group_norm dbeta silu=" + silu);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void layerNormOverTokens(DType dtype) {
        CudaOps ops = opsOrSkip();
        int rows = 2 * 1024;
        int cols = 320;
        float[] x = rounded(random(25, rows * cols, 2f), dtype);
        float[] gamma = rounded(random(26, cols, 1f), dtype);
        float[] beta = rounded(random(27, cols, 1f), dtype);
        float[] dy = rounded(random(28, x.length, 1f), dtype);
        float[] dx = new float[x.length];
        float[] dgamma = new float[cols];
        float[] dbeta = new float[cols];
        float[] y = normReference(x, gamma, beta, dy, rows, cols, 1, 1, 1, 1e-5f, false, dx, dgamma, dbeta, false);
        try (CudaTensor dX = upload(ops, x, dtype, 2, 1024, cols); CudaTensor dG = upload(ops, gamma, dtype, cols);
             CudaTensor dB = upload(ops, beta, dtype, cols); CudaTensor dDy = upload(ops, dy, dtype, 2, 1024, cols);
             CudaOps.NormResult r = ops.layerNorm(dX, dG, dB, 1e-5f)) {
            assertClose(y, r.y().toFloatArray(), dtype, "layer_norm");
            CudaOps.NormGrads g = ops.layerNormBackward(dX, dG, r, dDy, true);
            assertClose(dx, g.dx().toFloatArray(), dtype, "layer_norm dx");
            assertClose(dgamma, g.dgamma().toFloatArray(), dtype, "layer_norm dgamma");
            assertClose(dbeta, g.dbeta().toFloatArray(), dtype, "layer_norm dbeta");
        }
    }

    // ------------------------------------------------------------------ parameter gradients (fp32, no atomics)

    /** A norm applied to host leaves (x, gamma, beta) on the CPU tape. */
    @FunctionalInterface
    private interface HostNorm {
        Tensor apply(Tensor x, Tensor gamma, Tensor beta);
    }

    /** {dx, dgamma, dbeta} of {@code norm} on the CPU tape, backward seeded with dy. */
    private static float[][] cpuTapeGrads(HostNorm norm, float[] x, int[] shape, float[] gamma, float[] beta,
                                          float[] dy) {
        Tensor tx = Tensor.of(x.clone(), shape).requiresGrad(true);
        Tensor tg = Tensor.of(gamma.clone(), gamma.length).requiresGrad(true);
        Tensor tb = Tensor.of(beta.clone(), beta.length).requiresGrad(true);
        norm.apply(tx, tg, tb).backward(Tensor.of(dy.clone(), shape));
        return new float[][] {tx.grad().toFloatArray(), tg.grad().toFloatArray(), tb.grad().toFloatArray()};
    }

    /**
     * Compares one device backward with the CPU tape at the single-op fp32 tolerance of
     * {@link CudaAutogradTest#TOL}, then runs it again: dgamma and dbeta must repeat bit for bit (their sums
     * have a fixed order; the emulator runs blocks in order, so on it this guards the design, on a GPU the
     * scheduling as well).
     */
    private static void assertParamGrads(Supplier<CudaOps.NormGrads> backward, float[][] expected,
                                         String what) {
        CudaOps.NormGrads first = backward.get();
        CudaOps.NormGrads second = backward.get();
        try (CudaTensor dx = first.dx(); CudaTensor dg = first.dgamma(); CudaTensor db = first.dbeta();
             CudaTensor dx2 = second.dx(); CudaTensor dg2 = second.dgamma(); CudaTensor db2 = second.dbeta()) {
            float[] dgamma = dg.toFloatArray();
            float[] dbeta = db.toFloatArray();
            assertClose(expected[0], dx.toFloatArray(), CudaAutogradTest.TOL, what + " dx");
            assertClose(expected[1], dgamma, CudaAutogradTest.TOL, what + " dgamma");
            assertClose(expected[2], dbeta, CudaAutogradTest.TOL, what + " dbeta");
            assertArrayEquals(dgamma, dg2.toFloatArray(), what + ": dgamma repeats bit for bit");
            assertArrayEquals(dbeta, db2.toFloatArray(), what + ": dbeta repeats bit for bit");
        }
    }

    @ParameterizedTest
    @CsvSource({"3, 77, 768", "3, 1024, 320", "5, 13, 100"}) // CLIP tokens; SD's 32×32 level; tails of chunk and tile
    void layerNormParamGradsMatchTheCpuTapeAndRepeat(int batch, int tokens, int width) {
        CudaOps ops = opsOrSkip();
        int[] shape = {batch, tokens, width};
        float[] x = random(31, batch * tokens * width, 2f);
        float[] gamma = random(32, width, 1f);
        float[] beta = random(33, width, 1f);
        float[] dy = random(34, x.length, 1f);
        float[][] expected = cpuTapeGrads((tx, tg, tb) -> F.layerNorm(tx, tg, tb, 1e-5f), x, shape, gamma, beta, dy);
        try (CudaTensor dX = upload(ops, x, DType.F32, shape); CudaTensor dG = upload(ops, gamma, DType.F32, width);
             CudaTensor dB = upload(ops, beta, DType.F32, width); CudaTensor dDy = upload(ops, dy, DType.F32, shape);
             CudaOps.NormResult r = ops.layerNorm(dX, dG, dB, 1e-5f)) {
            assertParamGrads(() -> ops.layerNormBackward(dX, dG, r, dDy, true), expected,
                    "layer_norm " + Arrays.toString(shape));
        }
    }

    @ParameterizedTest
    @CsvSource({"3, 320, 16, 16, false", "3, 320, 16, 16, true", "4, 64, 9, 7, true"})
    void groupNormParamGradsMatchTheCpuTapeAndRepeat(int n, int c, int h, int w, boolean silu) {
        CudaOps ops = opsOrSkip();
        int groups = 32;
        int[] shape = {n, c, h, w};
        float[] x = random(35, n * c * h * w, 3f);
        float[] gamma = random(36, c, 1f);
        float[] beta = random(37, c, 1f);
        float[] dy = random(38, x.length, 1f);
        HostNorm norm = (tx, tg, tb) -> {
            Tensor y = F.groupNorm(tx, groups, tg, tb, 1e-5f);
            return silu ? F.silu(y) : y;
        };
        float[][] expected = cpuTapeGrads(norm, x, shape, gamma, beta, dy);
        try (CudaTensor dX = upload(ops, x, DType.F32, shape); CudaTensor dG = upload(ops, gamma, DType.F32, c);
             CudaTensor dB = upload(ops, beta, DType.F32, c); CudaTensor dDy = upload(ops, dy, DType.F32, shape);
             CudaOps.NormResult r = ops.groupNorm(dX, groups, dG, dB, 1e-5f, silu)) {
            assertParamGrads(() -> ops.groupNormBackward(dX, groups, dG, dB, r, dDy, silu, true), expected,
                    "group_norm " + Arrays.toString(shape) + " silu=" + silu);
        }
    }
}
