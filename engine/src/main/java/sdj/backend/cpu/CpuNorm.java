package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import sdj.tensor.Backend;
import sdj.tensor.Tensor;
import sdj.tensor.UnaryOp;

/**
 * group_norm and layer_norm on the CPU. Both normalise contiguous runs of values ("rows": one (image,
 * group) or one token), then apply a per-channel affine. Statistics are accumulated in double, the
 * biased variance as PyTorch uses, and backward uses the closed form
 * dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ per row. The affine (and, for inference, group_norm's SiLU)
 * runs in one vectorized pass per row while it is in cache.
 */
final class CpuNorm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private CpuNorm() {
    }

    static Backend.Result groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu,
            boolean keep) {
        int[] s = x.shape();
        int n = s[0];
        int c = s[1];
        int spatial = (int) (x.numel() / ((long) n * c));
        // channel of element e within a row r: ((r % groups)·(C/groups) + e / spatial)
        // without a backward to feed, SiLU joins the normalising pass (the backward needs the norm's output)
        Backend.Result norm = normalise(x, n * groups, c / groups * spatial, weight, bias, eps, spatial, c / groups,
                groups, keep, silu && !keep);
        if (!silu || !keep) {
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
        return normalise(x, rows, d, weight, bias, eps, 1, d, 1, keep, false);
    }

    /**
     * Normalises each of {@code rows} runs of {@code rowLen}. The affine parameter index of element e of
     * row r is {@code (r % groups)·channelsPerRow + e / spatial}. With silu, the output is SiLU of the result.
     */
    private static Backend.Result normalise(Tensor x, int rows, int rowLen, Tensor weight, Tensor bias, float eps,
            int spatial, int channelsPerRow, int groups, boolean keep, boolean silu) {
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
                if (spatial == 1) { // layer_norm: a parameter per element
                    affinePerElement(xv, out, xhat, base, rowLen, m, inv, gamma, beta, chBase);
                } else {
                    for (int ch = 0; ch < channelsPerRow; ch++) { // group_norm: one parameter per channel's run
                        affineRun(xv, out, xhat, base + ch * spatial, spatial, m, inv,
                                gamma == null ? 1f : gamma[chBase + ch], beta == null ? 0f : beta[chBase + ch]);
                    }
                }
                if (silu) {
                    VectorMath.silu(out, out, base, base + rowLen);
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

    /** out = ((x − m)·inv)·g + b over [lo, lo + n), x̂ kept when asked; the scalar formula's rounding, lane by lane. */
    private static void affineRun(float[] xv, float[] out, float[] xhat, int lo, int n, float m, float inv, float g,
            float b) {
        FloatVector vm = FloatVector.broadcast(F, m);
        FloatVector vinv = FloatVector.broadcast(F, inv);
        FloatVector vg = FloatVector.broadcast(F, g);
        FloatVector vb = FloatVector.broadcast(F, b);
        int i = lo;
        for (int end = lo + F.loopBound(n); i < end; i += F.length()) {
            FloatVector h = FloatVector.fromArray(F, xv, i).sub(vm).mul(vinv);
            if (xhat != null) {
                h.intoArray(xhat, i);
            }
            h.mul(vg).add(vb).intoArray(out, i);
        }
        for (; i < lo + n; i++) {
            float h = (xv[i] - m) * inv;
            if (xhat != null) {
                xhat[i] = h;
            }
            out[i] = h * g + b;
        }
    }

    /** As {@link #affineRun} with g and b read per element from gamma/beta at p0 on (1 and 0 when absent). */
    private static void affinePerElement(float[] xv, float[] out, float[] xhat, int lo, int n, float m, float inv,
            float[] gamma, float[] beta, int p0) {
        if (gamma == null || beta == null) {
            for (int e = 0; e < n; e++) {
                float h = (xv[lo + e] - m) * inv;
                if (xhat != null) {
                    xhat[lo + e] = h;
                }
                out[lo + e] = h * (gamma == null ? 1f : gamma[p0 + e]) + (beta == null ? 0f : beta[p0 + e]);
            }
            return;
        }
        FloatVector vm = FloatVector.broadcast(F, m);
        FloatVector vinv = FloatVector.broadcast(F, inv);
        int e = 0;
        for (int end = F.loopBound(n); e < end; e += F.length()) {
            FloatVector h = FloatVector.fromArray(F, xv, lo + e).sub(vm).mul(vinv);
            if (xhat != null) {
                h.intoArray(xhat, lo + e);
            }
            h.mul(FloatVector.fromArray(F, gamma, p0 + e)).add(FloatVector.fromArray(F, beta, p0 + e))
                    .intoArray(out, lo + e);
        }
        for (; e < n; e++) {
            float h = (xv[lo + e] - m) * inv;
            if (xhat != null) {
                xhat[lo + e] = h;
            }
            out[lo + e] = h * gamma[p0 + e] + beta[p0 + e];
        }
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
