package sdj.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats matching D's lane count, for float↔double conversion. */
    private static final VectorSpecies<Float> FD = VectorSpecies.of(float.class,
            VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final double INV_SQRT_2 = 0.7071067811865476;

    private VectorMath() {
    }

    /** y = x·σ(x), with σ from exp(−|x|) so nothing overflows for large |x|. */
    static void silu(float[] in, float[] out, int lo, int hi) {
        int i = lo;
        for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, in, i);
            FloatVector e = exp(x.abs().neg());
            FloatVector onePlus = e.add(1f);
            // σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0, with e = exp(−|x|)
            FloatVector num = FloatVector.broadcast(F, 1f).blend(e, x.lt(0f));
            x.mul(num.div(onePlus)).intoArray(out, i);
        }
        for (; i < hi; i++) {
            out[i] = in[i] * Unary.sigmoidOf(in[i]);
        }
    }

    /**
     * Exact GELU, x·Φ(x) = ½·x·erfc(−x/√2), in double lanes. erfc(z) for z ≥ 0 uses the Chebyshev
     * fit t·exp(−z² + P(t)), t = 1/(1+z/2), whose relative error is below 1.2e-7 everywhere (Press et
     * al., Numerical Recipes §6.2), so the float result stays within a few ulps of the exact series.
     */
    static void gelu(float[] in, float[] out, int lo, int hi) {
        int i = lo;
        for (int end = lo + FD.loopBound(hi - lo); i < end; i += FD.length()) {
            DoubleVector x = (DoubleVector) FloatVector.fromArray(FD, in, i).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector z = x.abs().mul(INV_SQRT_2);
            DoubleVector t = DoubleVector.broadcast(D, 1.0).div(z.mul(0.5).add(1.0));
            DoubleVector p = t.mul(0.17087277).add(-0.82215223);
            p = p.fma(t, DoubleVector.broadcast(D, 1.48851587));
            p = p.fma(t, DoubleVector.broadcast(D, -1.13520398));
            p = p.fma(t, DoubleVector.broadcast(D, 0.27886807));
            p = p.fma(t, DoubleVector.broadcast(D, -0.18628806));
            p = p.fma(t, DoubleVector.broadcast(D, 0.09678418));
            p = p.fma(t, DoubleVector.broadcast(D, 0.37409196));
            p = p.fma(t, DoubleVector.broadcast(D, 1.00002368));
            p = p.fma(t, DoubleVector.broadcast(D, -1.26551223));
            DoubleVector erfcAbs = t.mul(exp(p.sub(z.mul(z))));
            // erfc(−x/√2) is erfc(|z|) for x < 0 and 2 − erfc(|z|) for x ≥ 0
            DoubleVector erfc = erfcAbs.neg().add(2.0).blend(erfcAbs, x.lt(0.0));
            x.mul(0.5).mul(erfc).convertShape(VectorOperators.D2F, FD, 0).reinterpretAsFloats().intoArray(out, i);
        }
        for (; i < hi; i++) {
            out[i] = Unary.geluOf(in[i]);
        }
    }

    /** {@link #add} as a Binary op; one instance, so Binary can recognise it. */
    static final Binary.ArrayOp ADD = VectorMath::add;

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

    /** out = x · z, same shapes. */
    static void mul(float[] x, float[] z, float[] out, int lo, int hi) {
        int i = lo;
        for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
            FloatVector.fromArray(F, x, i).mul(FloatVector.fromArray(F, z, i)).intoArray(out, i);
        }
        for (; i < hi; i++) {
            out[i] = x[i] * z[i];
        }
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

    /** dst[i] = exp(src[i] − max) over [base, base+d); returns Σ dst[i], accumulated in double. */
    static double expShifted(float[] src, float[] dst, int base, int d, float max) {
        DoubleVector sum = DoubleVector.zero(D);
        int i = 0;
        for (int end = FD.loopBound(d); i < end; i += FD.length()) {
            FloatVector e = exp(FloatVector.fromArray(FD, src, base + i).sub(max));
            e.intoArray(dst, base + i);
            sum = sum.add(e.convertShape(VectorOperators.F2D, D, 0));
        }
        double total = sumInOrder(sum);
        for (; i < d; i++) {
            float e = (float) Math.exp(src[base + i] - max);
            dst[base + i] = e;
            total += e;
        }
        return total;
    }

    /** The largest of src[base, base+d). */
    static float max(float[] src, int base, int d) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int end = F.loopBound(d); i < end; i += F.length()) {
            m = m.max(FloatVector.fromArray(F, src, base + i));
        }
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < d; i++) {
            max = Math.max(max, src[base + i]);
        }
        return max;
    }

    /** Σ of the lanes, first to last. */
    private static double sumInOrder(DoubleVector v) {
        double total = 0;
        for (double lane : v.toArray()) {
            total += lane;
        }
        return total;
    }

    private static final float LOG2E_F = 1.44269504f;
    private static final float LN2_HI_F = 0.693359375f; // ln 2 split so that k·LN2_HI_F is exact
    private static final float LN2_LO_F = -2.12194440e-4f;
    private static final float ROUND_F = 12582912f; // 1.5·2^23: adding it rounds to an integer

    /**
     * e^x to about 1 float ulp: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^7 (the
     * remainder is below 1e-8 relative), and 2^k applied as two halves so that every k from −150 to
     * 128 (zero through overflow to infinity) stays a normal power of two.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(-104f).min(89f);
        FloatVector k = x.mul(LOG2E_F).add(ROUND_F).sub(ROUND_F);
        FloatVector r = k.mul(-LN2_HI_F).add(x).sub(k.mul(LN2_LO_F));
        FloatVector p = r.mul(1f / 5040).add(1f / 720);
        p = p.fma(r, r.broadcast(1f / 120));
        p = p.fma(r, r.broadcast(1f / 24));
        p = p.fma(r, r.broadcast(1f / 6));
        p = p.fma(r, r.broadcast(0.5f));
        p = p.fma(r, r.broadcast(1f));
        p = p.fma(r, r.broadcast(1f));
        IntVector ki = (IntVector) k.convert(VectorOperators.F2I, 0);
        IntVector half = ki.lanewise(VectorOperators.ASHR, 1);
        return p.mul(powerOfTwo(half)).mul(powerOfTwo(ki.sub(half)));
    }

    private static FloatVector powerOfTwo(IntVector k) {
        return (FloatVector) k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }

    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 6.93147180369123816490e-01;
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double ROUND = 6755399441055744.0; // 1.5·2^52
    /** 1/12!, 1/11!, …, 1/1!, 1/0!: Horner's order for the Taylor series of e^r. */
    private static final double[] INVERSE_FACTORIALS = {1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
            1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1};

    /** e^x in double lanes, the same construction with the Taylor series to r^12. */
    static DoubleVector exp(DoubleVector x) {
        x = x.max(-746.0).min(710.0);
        DoubleVector k = x.mul(LOG2E).add(ROUND).sub(ROUND);
        DoubleVector r = k.mul(-LN2_HI).add(x).sub(k.mul(LN2_LO));
        DoubleVector p = r.broadcast(INVERSE_FACTORIALS[0]);
        for (int i = 1; i < INVERSE_FACTORIALS.length; i++) {
            p = p.fma(r, r.broadcast(INVERSE_FACTORIALS[i]));
        }
        LongVector ki = (LongVector) k.convert(VectorOperators.D2L, 0);
        LongVector half = ki.lanewise(VectorOperators.ASHR, 1);
        return p.mul(powerOfTwo(half)).mul(powerOfTwo(ki.sub(half)));
    }

    private static DoubleVector powerOfTwo(LongVector k) {
        return (DoubleVector) k.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
    }
}
