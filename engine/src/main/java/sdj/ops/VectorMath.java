package sdj.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API loops for the elementwise ops that are hot in a UNet forward (SiLU, GELU, add and mul).
 * Each fills out[lo, hi) and finishes the tail with the scalar definition, so results agree with the
 * scalar ops to a few float ulps.
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
            FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
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
            DoubleVector erfcAbs = t.mul(p.sub(z.mul(z)).lanewise(VectorOperators.EXP));
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
            FloatVector e = FloatVector.fromArray(FD, src, base + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(dst, base + i);
            sum = sum.add(e.convertShape(VectorOperators.F2D, D, 0));
        }
        double total = sum.reduceLanes(VectorOperators.ADD);
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
}
