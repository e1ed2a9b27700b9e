package sdj.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import sdj.tensor.ActivationArena;
import sdj.tensor.Backend;
import sdj.tensor.Tensor;

/**
 * group_norm and layer_norm on the CPU. Both normalise contiguous runs of values ("rows": one (image,
 * group) or one token), then apply a per-channel affine. Statistics are accumulated in double, the
 * biased variance as PyTorch uses, and backward uses the closed form
 * dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ per row. The affine (and, for inference, group_norm's SiLU)
 * runs in one vectorized pass per row while it is in cache.
 */
final class CpuNorm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen to one D vector of doubles. */
    private static final VectorSpecies<Float> HALF = VectorSpecies.of(float.class,
            VectorShape.forBitSize(D.vectorBitSize() / 2));

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
        int rows = n * groups;
        int rowLen = c / groups * spatial;
        Backend.Result norm = normalise(x, rows, rowLen, weight, bias, eps, spatial, c / groups, groups, keep,
                silu && !keep);
        if (!silu || !keep) {
            return norm;
        }
        // SiLU row by row as the fused pass does, so a checkpoint's recomputation matches its forward bit for bit
        float[] y = norm.out().floats();
        float[] act = ActivationArena.floats(y.length);
        Parallel.range(rows, rowLen * 8L, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                VectorMath.silu(y, act, r * rowLen, (r + 1) * rowLen);
            }
        });
        return new Backend.Result(Tensor.of(act, s), g -> {
            float[] gv = g.floats();
            float[] gy = new float[y.length];
            Parallel.range(y.length, 8, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    gy[i] = gv[i] * CpuUnary.siluDerivative(y[i]);
                }
            });
            return norm.gradients().of(Tensor.of(gy, s));
        });
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
        float[] gamma = weight == null ? null : HostWeights.vector(weight);
        float[] beta = bias == null ? null : HostWeights.vector(bias);
        float[] out = ActivationArena.floats(xv.length);
        // x̂ is only needed by the backward; inference does not keep it
        float[] xhat = keep ? new float[xv.length] : null;
        float[] invStd = new float[rows];
        Parallel.range(rows, rowLen * 4L, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * rowLen;
                double mean = sum(xv, base, rowLen) / rowLen;
                double sq = squaredDeviations(xv, base, rowLen, mean);
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
            NormBackward.run(g, xhat, invStd, gamma, gx, gGamma, gBeta, rows, rowLen, spatial, channelsPerRow, groups);
            return new Tensor[] {
                gx == null ? null : Tensor.of(gx, x.shape()),
                weight == null ? null : Tensor.of(toFloat(gGamma), weight.shape()),
                bias == null ? null : Tensor.of(toFloat(gBeta), bias.shape())};
        });
    }

    /** Σ x over [lo, lo + n) in double, in D-wide lanes (two accumulators, so adds do not wait on each other). */
    private static double sum(float[] xv, int lo, int n) {
        DoubleVector a = DoubleVector.zero(D);
        DoubleVector b = DoubleVector.zero(D);
        int step = HALF.length();
        int i = lo;
        for (int end = lo + n - 2 * step; i <= end; i += 2 * step) {
            a = a.add(widen(xv, i));
            b = b.add(widen(xv, i + step));
        }
        double s = a.add(b).reduceLanes(VectorOperators.ADD);
        for (; i < lo + n; i++) {
            s += xv[i];
        }
        return s;
    }

    /** Σ (x − mean)² over [lo, lo + n) in double, as {@link #sum}. */
    private static double squaredDeviations(float[] xv, int lo, int n, double mean) {
        DoubleVector vm = DoubleVector.broadcast(D, mean);
        DoubleVector a = DoubleVector.zero(D);
        DoubleVector b = DoubleVector.zero(D);
        int step = HALF.length();
        int i = lo;
        for (int end = lo + n - 2 * step; i <= end; i += 2 * step) {
            DoubleVector da = widen(xv, i).sub(vm);
            DoubleVector db = widen(xv, i + step).sub(vm);
            a = da.fma(da, a);
            b = db.fma(db, b);
        }
        double s = a.add(b).reduceLanes(VectorOperators.ADD);
        for (; i < lo + n; i++) {
            double d = xv[i] - mean;
            s += d * d;
        }
        return s;
    }

    private static DoubleVector widen(float[] xv, int i) {
        return (DoubleVector) FloatVector.fromArray(HALF, xv, i).convertShape(VectorOperators.F2D, D, 0);
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
