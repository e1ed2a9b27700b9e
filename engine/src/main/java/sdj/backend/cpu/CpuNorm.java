package sdj.backend.cpu;

import sdj.tensor.Backend;
import sdj.tensor.Tensor;
import sdj.tensor.UnaryOp;

/**
 * group_norm and layer_norm on the CPU. Both normalise contiguous runs of values ("rows": one (image,
 * group) or one token), then apply a per-channel affine. Statistics are accumulated in double, the
 * biased variance as PyTorch uses, and backward uses the closed form
 * dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ per row.
 */
final class CpuNorm {
    private CpuNorm() {
    }

    static Backend.Result groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu,
            boolean keep) {
        int[] s = x.shape();
        int n = s[0];
        int c = s[1];
        int spatial = (int) (x.numel() / ((long) n * c));
        // channel of element e within a row r: ((r % groups)·(C/groups) + e / spatial)
        Backend.Result norm = normalise(x, n * groups, c / groups * spatial, weight, bias, eps, spatial, c / groups,
                groups, keep);
        if (!silu) {
            return norm;
        }
        Backend.Result act = CpuUnary.apply(UnaryOp.SILU, 0f, norm.out(), keep);
        if (!keep) {
            return act;
        }
        return new Backend.Result(act.out(), g -> norm.gradients().of(act.gradients().of(g)[0]));
    }

    static Backend.Result layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, boolean keep) {
        int d = x.size(-1);
        int rows = (int) (x.numel() / d);
        return normalise(x, rows, d, weight, bias, eps, 1, d, 1, keep);
    }

    /**
     * Normalises each of {@code rows} runs of {@code rowLen}. The affine parameter index of element e of
     * row r is {@code (r % groups)·channelsPerRow + e / spatial}.
     */
    private static Backend.Result normalise(Tensor x, int rows, int rowLen, Tensor weight, Tensor bias, float eps,
            int spatial, int channelsPerRow, int groups, boolean keep) {
        float[] xv = x.floats();
        float[] gamma = weight == null ? null : weight.floats();
        float[] beta = bias == null ? null : bias.floats();
        float[] out = new float[xv.length];
        // x̂ is only needed by the backward; inference does not keep it
        float[] xhat = keep ? new float[xv.length] : null;
        float[] invStd = new float[rows];
        Parallel.range(rows, rowLen * 4L, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * rowLen;
                double sum = 0;
                for (int e = 0; e < rowLen; e++) {
                    sum += xv[base + e];
                }
                double mean = sum / rowLen;
                double sq = 0;
                for (int e = 0; e < rowLen; e++) {
                    double dlt = xv[base + e] - mean;
                    sq += dlt * dlt;
                }
                float inv = (float) (1.0 / Math.sqrt(sq / rowLen + eps));
                invStd[r] = inv;
                float m = (float) mean;
                int chBase = (r % groups) * channelsPerRow;
                for (int e = 0; e < rowLen; e++) {
                    float h = (xv[base + e] - m) * inv;
                    if (xhat != null) {
                        xhat[base + e] = h;
                    }
                    int ch = chBase + e / spatial;
                    out[base + e] = h * (gamma == null ? 1f : gamma[ch]) + (beta == null ? 0f : beta[ch]);
                }
            }
        });
        Tensor y = Tensor.of(out, x.shape());
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, gy -> {
            float[] g = gy.floats();
            int params = gamma == null ? 0 : gamma.length;
            float[] gx = x.requiresGrad() ? new float[xv.length] : null;
            double[] gGamma = new double[Math.max(params, beta == null ? 0 : beta.length)];
            double[] gBeta = new double[gGamma.length];
            for (int r = 0; r < rows; r++) {
                int base = r * rowLen;
                int chBase = (r % groups) * channelsPerRow;
                double meanD = 0;
                double meanDX = 0;
                for (int e = 0; e < rowLen; e++) {
                    int ch = chBase + e / spatial;
                    float gi = g[base + e];
                    if (gGamma.length > 0) {
                        gGamma[ch] += gi * xhat[base + e];
                        gBeta[ch] += gi;
                    }
                    float dxh = gi * (gamma == null ? 1f : gamma[ch]);
                    meanD += dxh;
                    meanDX += dxh * xhat[base + e];
                }
                if (gx == null) {
                    continue;
                }
                float md = (float) (meanD / rowLen);
                float mdx = (float) (meanDX / rowLen);
                float inv = invStd[r];
                for (int e = 0; e < rowLen; e++) {
                    int ch = chBase + e / spatial;
                    float dxh = g[base + e] * (gamma == null ? 1f : gamma[ch]);
                    gx[base + e] = (dxh - md - xhat[base + e] * mdx) * inv;
                }
            }
            return new Tensor[] {
                gx == null ? null : Tensor.of(gx, x.shape()),
                weight == null ? null : Tensor.of(toFloat(gGamma), weight.shape()),
                bias == null ? null : Tensor.of(toFloat(gBeta), bias.shape())};
        });
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
