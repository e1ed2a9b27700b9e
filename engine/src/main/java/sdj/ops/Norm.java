package sdj.ops;

import sdj.backend.cpu.Parallel;
import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * group_norm and layer_norm. Both normalise contiguous runs of values ("rows": one (image, group)
 * or one token), then apply a per-channel affine. Statistics are accumulated in double, the
 * biased variance as PyTorch uses, and backward uses the closed form
 * dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ per row.
 */
public final class Norm {
    private Norm() {
    }

    /** x [N, C, *] normalised over (C/groups, *) per group; weight/bias [C] (may be null). */
    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        checkGroups(x, groups);
        if (x.isCuda()) {
            return CudaDispatch.groupNorm(x, groups, weight, bias, eps, false);
        }
        int[] s = x.shape();
        int n = s[0];
        int c = s[1];
        int spatial = (int) (x.numel() / ((long) n * c));
        int rows = n * groups;
        int rowLen = c / groups * spatial;
        // channel of element e within a row r: ((r % groups)·(C/groups) + e / spatial)
        return normalise(x, rows, rowLen, weight, bias, eps, spatial, c / groups, groups, "group_norm");
    }

    /**
     * silu(group_norm(x)), the pair that opens every SD ResBlock branch: one fused kernel on the GPU
     * (SiLU applied in fp32 before the output is rounded), the two ops on the CPU.
     */
    public static Tensor groupNormSilu(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        checkGroups(x, groups);
        if (x.isCuda()) {
            return CudaDispatch.groupNorm(x, groups, weight, bias, eps, true);
        }
        return Unary.silu(groupNorm(x, groups, weight, bias, eps));
    }

    private static void checkGroups(Tensor x, int groups) {
        int[] s = x.shape();
        if (s.length < 2 || s[1] % groups != 0) {
            throw new IllegalArgumentException("group_norm with " + groups + " groups of input " + Shape.str(s));
        }
    }

    /** x [..., D] normalised over the last dim; weight/bias [D]. */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        if (x.isCuda()) {
            return CudaDispatch.layerNorm(x, weight, bias, eps);
        }
        int d = x.size(-1);
        int rows = (int) (x.numel() / d);
        return normalise(x, rows, d, weight, bias, eps, 1, d, 1, "layer_norm");
    }

    /**
     * Normalises each of {@code rows} runs of {@code rowLen}. The affine parameter index of element e of
     * row r is {@code (r % groups)·channelsPerRow + e / spatial}.
     */
    private static Tensor normalise(Tensor x, int rows, int rowLen, Tensor weight, Tensor bias, float eps, int spatial,
            int channelsPerRow, int groups, String name) {
        float[] xv = x.floats();
        float[] gamma = weight == null ? null : weight.floats();
        float[] beta = bias == null ? null : bias.floats();
        float[] out = new float[xv.length];
        // x̂ is only needed by the backward; inference (noGrad) does not keep it
        float[] xhat = Autograd.willRecord(x, weight, bias) ? new float[xv.length] : null;
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
        Tensor[] inputs = {x, weight, bias};
        return Autograd.record(y, name, inputs, gy -> {
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
