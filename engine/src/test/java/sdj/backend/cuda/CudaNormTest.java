package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.tensor.DType;

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
}
