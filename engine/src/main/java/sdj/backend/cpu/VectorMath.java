package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API loops for the elementwise ops that are hot in a UNet forward (SiLU, GELU, add and mul).
 * Each fills out[lo, hi) and finishes the tail with the scalar definition, so results agree with the
 * scalar ops to a few float ulps.
 *
 * <p>Results must not depend on whether C2 has compiled a loop yet: the same seed has to give the same
 * image in a cold and a warm JVM. So exp is our own polynomial built from IEEE add, mul and fma (the
 * Vector API's EXP is Intel's SVML once compiled but Math.exp per lane before), and sums over lanes
 * run in a fixed order (reduceLanes(ADD) leaves the order open).
 */
final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /**
     * exp reinterprets float lanes as int lanes, and C2 intrinsifies that only for vector classes that
     * are initialised when it compiles the loop; once, a GELU loop boxed its vectors at the
     * reinterpretation. Initialising the int vector class with this one is a cheap guard (the cause of
     * that run was not pinned down; the launcher's inline hint for exp* is the main fix).
     */
    private static final IntVector INT_SHAPE = IntVector.zero(IntVector.SPECIES_PREFERRED);
    private static final double INV_SQRT_2 = 0.7071067811865476;
    private static final float INV_SQRT_2PI = 0.39894228f;

    private VectorMath() {
    }

    /** y = x·σ(x), with σ from exp(−|x|) so nothing overflows for large |x|. */
    static void silu(float[] in, float[] out, int lo, int hi) {
        timesSigmoid(in, out, lo, hi, 1f);
    }

    /** CLIP's quick GELU, y = x·σ(1.702·x). */
    static void quickGelu(float[] in, float[] out, int lo, int hi) {
        timesSigmoid(in, out, lo, hi, 1.702f);
    }

    /** y = x·σ(a·x) (a·x is exact for a = 1, so SiLU keeps its bits). */
    private static void timesSigmoid(float[] in, float[] out, int lo, int hi, float a) {
        int i = lo;
        for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, in, i);
            FloatVector ax = x.mul(a);
            FloatVector e = expOfNonPositive(ax.abs().neg());
            FloatVector onePlus = e.add(1f);
            // σ(z) = 1/(1+e) for z ≥ 0 and e/(1+e) for z < 0, with e = exp(−|z|)
            FloatVector num = FloatVector.broadcast(F, 1f).blend(e, ax.lt(0f));
            x.mul(num.div(onePlus)).intoArray(out, i);
        }
        for (; i < hi; i++) {
            out[i] = in[i] * CpuUnary.sigmoidOf(a * in[i]);
        }
    }

    /**
     * Exact GELU, x·Φ(x) = ½·x·erfc(−x/√2). erfc(z) for z ≥ 0 uses the Chebyshev fit
     * t·exp(−z² + P(t)), t = 1/(1+z/2), whose relative error is below 1.2e-7 everywhere (Press et al.,
     * Numerical Recipes §6.2). In float lanes the argument −z² + P(t) would lose ~1e-6 absolute (z² reaches
     * 18 at x = −6), so it is split: z² = (hi + lo)/2 with hi = x·x and lo its exact rounding error (fma),
     * and erfc = t·exp(−hi/2 + (P(t) − lo/2)) with the two parts kept apart through the exponential's
     * argument reduction ({@link #expOfSum}). The float result stays within ~5e-7 relative.
     */
    static void gelu(float[] in, float[] out, int lo, int hi) {
        gelu(in, lo, out, lo, hi - lo);
    }

    /** out[outOff + j] = GELU(in[inOff + j]) for j < n (a GEGLU gate half into its own output row). */
    static void gelu(float[] in, int inOff, float[] out, int outOff, int n) {
        geluOrCdf(in, inOff, out, outOff, n, true);
    }

    /** out[outOff + j] = Φ(in[inOff + j]) = ½·erfc(−x/√2), the normal CDF, as {@link #gelu} computes it. */
    static void normalCdf(float[] in, int inOff, float[] out, int outOff, int n) {
        geluOrCdf(in, inOff, out, outOff, n, false);
    }

    /**
     * GELU (timesX) or Φ by the split-argument fit described at {@link #gelu}. One loop for both: the fit passed
     * between methods as a vector boxed it once C2 compiled the callers.
     */
    private static void geluOrCdf(float[] in, int inOff, float[] out, int outOff, int n, boolean timesX) {
        int j = 0;
        for (int end = F.loopBound(n); j < end; j += F.length()) {
            FloatVector x = FloatVector.fromArray(F, in, inOff + j);
            FloatVector ax = x.abs();
            FloatVector t = ax.mul((float) (0.5 * INV_SQRT_2)).add(1f);
            t = t.broadcast(1f).div(t);
            FloatVector p = t.mul(0.17087277f).add(-0.82215223f);
            p = p.fma(t, t.broadcast(1.48851587f));
            p = p.fma(t, t.broadcast(-1.13520398f));
            p = p.fma(t, t.broadcast(0.27886807f));
            p = p.fma(t, t.broadcast(-0.18628806f));
            p = p.fma(t, t.broadcast(0.09678418f));
            p = p.fma(t, t.broadcast(0.37409196f));
            p = p.fma(t, t.broadcast(1.00002368f));
            p = p.fma(t, t.broadcast(-1.26551223f));
            FloatVector squareHi = ax.mul(ax);
            FloatVector squareLo = ax.fma(ax, squareHi.neg());
            FloatVector erfcAbs = t.mul(expOfSum(squareHi.mul(-0.5f), p.sub(squareLo.mul(0.5f))));
            // erfc(−x/√2) is erfc(|z|) for x < 0 and 2 − erfc(|z|) for x ≥ 0
            FloatVector erfc = erfcAbs.neg().add(2f).blend(erfcAbs, x.lt(0f));
            (timesX ? x.mul(0.5f).mul(erfc) : erfc.mul(0.5f)).intoArray(out, outOff + j);
        }
        for (; j < n; j++) {
            float x = in[inOff + j];
            out[outOff + j] = timesX ? CpuUnary.geluOf(x) : (float) (0.5 * (1 + Erf.erf(x * INV_SQRT_2)));
        }
    }

    /** out[outOff + j] = φ(in[inOff + j]) = exp(−x²/2)/√(2π), the normal density (x² split as in {@link #gelu}). */
    static void normalPdf(float[] in, int inOff, float[] out, int outOff, int n) {
        int j = 0;
        for (int end = F.loopBound(n); j < end; j += F.length()) {
            FloatVector x = FloatVector.fromArray(F, in, inOff + j);
            FloatVector squareHi = x.mul(x);
            FloatVector squareLo = x.fma(x, squareHi.neg());
            expOfSum(squareHi.mul(-0.5f), squareLo.mul(-0.5f)).mul(INV_SQRT_2PI).intoArray(out, outOff + j);
        }
        for (; j < n; j++) {
            float x = in[inOff + j];
            out[outOff + j] = (float) (Math.exp(-0.5 * x * x) * INV_SQRT_2PI);
        }
    }

    /**
     * GEGLU's backward for one row x = [value | gate] (each n wide, from xOff), given Φ(gate) and φ(gate):
     * d value = dy·gate·Φ (= dy·GELU(gate)), d gate = dy·value·(Φ + gate·φ), into dx at x's offsets.
     */
    static void gegluGradRow(float[] x, int xOff, float[] dy, int dyOff, float[] cdf, float[] pdf, float[] dx, int n) {
        int gate = xOff + n;
        int j = 0;
        for (int end = F.loopBound(n); j < end; j += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + j);
            FloatVector z = FloatVector.fromArray(F, x, gate + j);
            FloatVector g = FloatVector.fromArray(F, dy, dyOff + j);
            FloatVector c = FloatVector.fromArray(F, cdf, j);
            g.mul(z.mul(c)).intoArray(dx, xOff + j);
            g.mul(v).mul(z.fma(FloatVector.fromArray(F, pdf, j), c)).intoArray(dx, gate + j);
        }
        for (; j < n; j++) {
            float z = x[gate + j];
            dx[xOff + j] = dy[dyOff + j] * (z * cdf[j]);
            dx[gate + j] = dy[dyOff + j] * x[xOff + j] * (z * pdf[j] + cdf[j]);
        }
    }

    /** {@link #add} as a Binary op; one instance, so Binary can recognise it. */
    static final CpuBinary.ArrayOp ADD = VectorMath::add;

    /** out = x + z, same shapes. */
    static void add(float[] x, float[] z, float[] out, int lo, int hi) {
        int i = lo;
        for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
            FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, z, i)).intoArray(out, i);
        }
        for (; i < hi; i++) {
            out[i] = x[i] + z[i];
        }
    }

    /** out[outOff + j] = x[xOff + j] · z[zOff + j] for j < n. */
    static void mul(float[] x, int xOff, float[] z, int zOff, float[] out, int outOff, int n) {
        int j = 0;
        for (int end = F.loopBound(n); j < end; j += F.length()) {
            FloatVector.fromArray(F, x, xOff + j).mul(FloatVector.fromArray(F, z, zOff + j)).intoArray(out, outOff + j);
        }
        for (; j < n; j++) {
            out[outOff + j] = x[xOff + j] * z[zOff + j];
        }
    }

    /** out = x · z, same shapes. */
    static void mul(float[] x, float[] z, float[] out, int lo, int hi) {
        mul(x, lo, z, lo, out, lo, hi - lo);
    }

    /** Rows [r0, r1) of out[r, j] = x[r, j] + bias[j], rows of length bias.length (a Linear bias). */
    static void addRows(float[] x, float[] bias, float[] out, int r0, int r1) {
        int p = bias.length;
        int bound = F.loopBound(p);
        for (int r = r0; r < r1; r++) {
            int base = r * p;
            int j = 0;
            for (; j < bound; j += F.length()) {
                FloatVector.fromArray(F, x, base + j).add(FloatVector.fromArray(F, bias, j)).intoArray(out, base + j);
            }
            for (; j < p; j++) {
                out[base + j] = x[base + j] + bias[j];
            }
        }
    }

    /**
     * dst[i] = exp((src[i] − max)·scale) over [base, base+d); returns Σ dst[i]. The sum runs in float lanes
     * with Kahan compensation (as accurate as a double sum, without leaving the one float vector shape).
     * Attention passes its 1/√d as the scale on raw q·kᵀ scores, saving a pass over the row (scale &gt; 0,
     * so the raw and the scaled row have their maximum at the same place); softmax passes 1.
     */
    static double expShifted(float[] src, float[] dst, int base, int d, float max, float scale) {
        FloatVector sum = FloatVector.zero(F);
        FloatVector compensation = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(d); i < end; i += F.length()) {
            FloatVector e = expOfNonPositive(FloatVector.fromArray(F, src, base + i).sub(max).mul(scale));
            e.intoArray(dst, base + i);
            FloatVector y = e.sub(compensation);
            FloatVector t = sum.add(y);
            compensation = t.sub(sum).sub(y);
            sum = t;
        }
        double total = 0;
        for (int lane = 0; lane < F.length(); lane++) { // lane by lane: toArray() allocated per row
            total += (double) sum.lane(lane) - compensation.lane(lane);
        }
        for (; i < d; i++) {
            float e = (float) Math.exp((src[base + i] - max) * scale);
            dst[base + i] = e;
            total += e;
        }
        return total;
    }

    /**
     * dst[i] = exp((src[i] − max)·scale)·factor over [base, base+d): {@link #expShifted}'s exponentials, each
     * multiplied by factor (a softmax row rebuilt from its saved maximum and 1/Σ, in one pass).
     */
    static void expShiftedTimes(float[] src, float[] dst, int base, int d, float max, float scale, float factor) {
        int i = 0;
        for (int end = F.loopBound(d); i < end; i += F.length()) {
            expOfNonPositive(FloatVector.fromArray(F, src, base + i).sub(max).mul(scale)).mul(factor)
                    .intoArray(dst, base + i);
        }
        for (; i < d; i++) {
            dst[base + i] = (float) Math.exp((src[base + i] - max) * scale) * factor;
        }
    }

    /** The largest of src[base, base+d). */
    static float max(float[] src, int base, int d) {
        // four running maxima: Java's max is a chain of several instructions on x86, and max is exact in any order
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int i = 0;
        int step = 4 * F.length();
        for (int end = d - d % step; i < end; i += step) {
            m0 = m0.max(FloatVector.fromArray(F, src, base + i));
            m1 = m1.max(FloatVector.fromArray(F, src, base + i + F.length()));
            m2 = m2.max(FloatVector.fromArray(F, src, base + i + 2 * F.length()));
            m3 = m3.max(FloatVector.fromArray(F, src, base + i + 3 * F.length()));
        }
        for (int end = F.loopBound(d); i < end; i += F.length()) {
            m0 = m0.max(FloatVector.fromArray(F, src, base + i));
        }
        float max = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < d; i++) {
            max = Math.max(max, src[base + i]);
        }
        return max;
    }

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693359375f; // ln 2 split so that k·LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5·2^23: adding it rounds to an integer k
    private static final float UNDERFLOW = -86.9f; // below, e^x < 2^-125: flushed to zero

    /**
     * e^x to about 1 float ulp: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^7 (the
     * remainder is below 1e-8 relative), then scaled by 2^(k−1)·2, which stays a normal float for every k
     * from −125 to 128 (up to the overflow to infinity). Results below 2^-125 are flushed to zero.
     * Only float lanes of the one preferred shape, so C2 keeps every call intrinsic (a second vector shape
     * in these loops makes the calls polymorphic and C2 falls back to boxed vectors).
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.lt(UNDERFLOW);
        // blends on compares: Java's max/min (NaN- and signed-zero-aware) are several dependent instructions on x86
        x = x.blend(UNDERFLOW, underflow);
        x = x.blend(88.8f, x.compare(VectorOperators.GT, 88.8f));
        FloatVector shifted = x.mul(LOG2E).add(ROUND);
        FloatVector k = shifted.sub(ROUND);
        FloatVector r = k.mul(-LN2_HI).add(x).sub(k.mul(LN2_LO));
        return expOfReduced(r, shifted, underflow);
    }

    /**
     * e^(a+b) for a + b ≤ 88 (no overflow handling), as accurate as e^a·e^b from two {@link #exp} calls:
     * b joins the reduced argument r = a − k·ln2 + b, after the exact Cody–Waite step, so a large a
     * costs b none of its low bits. One exponential where GELU needed two: C2 stops inlining at a node
     * budget, and a second exp in one loop was compiled as a call, boxing its vectors on every iteration.
     */
    static FloatVector expOfSum(FloatVector a, FloatVector b) {
        FloatVector x = a.add(b);
        VectorMask<Float> underflow = x.lt(UNDERFLOW);
        FloatVector shifted = x.blend(UNDERFLOW, underflow).mul(LOG2E).add(ROUND);
        FloatVector k = shifted.sub(ROUND);
        FloatVector r = k.mul(-LN2_HI).add(a).add(b).sub(k.mul(LN2_LO));
        return expOfReduced(r, shifted, underflow);
    }

    /**
     * {@link #exp} for x ≤ 0 (a softmax's shifted scores), the same bits without the clamps to the range: the
     * compare-and-blends cost a quarter of the exponential.
     */
    static FloatVector expOfNonPositive(FloatVector x) {
        VectorMask<Float> underflow = x.lt(UNDERFLOW);
        FloatVector shifted = x.mul(LOG2E).add(ROUND);
        FloatVector k = shifted.sub(ROUND);
        FloatVector r = k.mul(-LN2_HI).add(x).sub(k.mul(LN2_LO));
        return expOfReduced(r, shifted, underflow);
    }

    /** e^r·2^k from the reduced argument r and k's bits in {@code shifted}; lanes flagged underflow are 0. */
    private static FloatVector expOfReduced(FloatVector r, FloatVector shifted, VectorMask<Float> underflow) {
        FloatVector p = r.mul(1f / 5040).add(1f / 720);
        p = p.fma(r, r.broadcast(1f / 120));
        p = p.fma(r, r.broadcast(1f / 24));
        p = p.fma(r, r.broadcast(1f / 6));
        p = p.fma(r, r.broadcast(0.5f));
        p = p.fma(r, r.broadcast(1f));
        p = p.fma(r, r.broadcast(1f));
        // bits of 2^(k−1) = (k − 1 + 127) << 23; bits(shifted) = bits(ROUND) + k, and bits(ROUND) << 23 is 0
        IntVector kBits = shifted.reinterpretAsInts();
        FloatVector scale = kBits.add(126).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale).mul(2f).blend(0f, underflow);
    }
}
