package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    private static final int FL = FloatVector.SPECIES_PREFERRED.length();

    private static float[] floatExp(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i += FL) {
            VectorMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(out, i);
        }
        return out;
    }

    /** n points centred on 0, 1/perUnit apart. */
    private static float[] ramp(int n, float perUnit) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i - n / 2) / perUnit;
        }
        return x;
    }

    private static float[] inputs() {
        float[] special = {0f, -0f, 1f, -1f, 88.7f, 88.72f, 88.8f, 100f, -86.8f, -87f, -100f, -200f, Float.NEGATIVE_INFINITY,
                Float.POSITIVE_INFINITY, 1e-8f, -1e-8f, 0.34657359f, -0.34657359f};
        int n = 4096;
        float[] x = new float[n];
        Random random = new Random(5);
        for (int i = 0; i < n; i++) {
            x[i] = i < special.length ? special[i] : (float) (random.nextDouble() * 200 - 110);
        }
        return x;
    }

    @Test
    void expIsWithinTwoUlpOfMathExpFromTheFlushToZeroThresholdToOverflow() {
        float[] x = inputs();
        float[] y = floatExp(x);
        for (int i = 0; i < x.length; i++) {
            if (x[i] < -86.9f) {
                assertEquals(0f, y[i], "exp(" + x[i] + ") is flushed to zero below 2^-125");
                continue;
            }
            float expected = (float) Math.exp(x[i]);
            assertEquals(expected, y[i], Float.isInfinite(expected) ? 0 : 2 * Math.ulp(expected), "exp(" + x[i] + ")");
        }
    }

    @Test
    void expOfNonPositiveIsExpBitForBitOnEveryNonPositiveArgument() {
        float[] x = inputs();
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.min(x[i], 0f);
        }
        x[20] = Float.NaN;
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += FL) {
            VectorMath.expOfNonPositive(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(y, i);
        }
        float[] exp = floatExp(x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(exp[i]), Float.floatToIntBits(y[i]), "exp(" + x[i] + ")");
        }
        assertEquals(Float.NaN, y[20], "NaN stays NaN");
        assertEquals(0f, y[12], "exp(−∞)");
    }

    @Test
    void rowMaximumIsTheLargestElementWithJavasNanAndSignedZeroRules() {
        Random random = new Random(9);
        for (int d = 0; d < 5 * FL + 3; d++) {
            float[] row = new float[d + 2];
            for (int i = 0; i < row.length; i++) {
                row[i] = random.nextFloat() * 100 - 50;
            }
            float expected = Float.NEGATIVE_INFINITY;
            for (int i = 1; i <= d; i++) {
                expected = Math.max(expected, row[i]);
            }
            assertEquals(expected, VectorMath.max(row, 1, d), "d = " + d);
            if (d > 0) {
                int at = random.nextInt(d) + 1;
                row[at] = 1e6f; // each lane position and tail in turn over the loop of d
                assertEquals(1e6f, VectorMath.max(row, 1, d), "d = " + d + ", the largest at " + at);
                row[at] = Float.NaN;
                assertEquals(Float.NaN, VectorMath.max(row, 1, d), "d = " + d + ", NaN at " + at);
            }
        }
        float[] zeros = new float[4 * FL + 1];
        java.util.Arrays.fill(zeros, -0f);
        zeros[2 * FL + 3] = 0f;
        assertEquals(Float.floatToIntBits(0f), Float.floatToIntBits(VectorMath.max(zeros, 0, zeros.length)), "+0 above −0");
    }

    @Test
    void resultsAreTheSameBitsBeforeAndAfterTheJitCompilesTheLoops() {
        // The first calls run interpreted (the Vector API's Java fallback); after many calls C2 compiles
        // them to intrinsics. A seed must give the same image either way.
        float[] x = inputs();
        float[] silu = new float[x.length];
        float[] gelu = new float[x.length];
        float[] quick = new float[x.length];
        float[] softmax = x.clone();
        float[] exp = floatExp(x);
        VectorMath.silu(x, silu, 0, x.length);
        VectorMath.gelu(x, gelu, 0, x.length);
        VectorMath.quickGelu(x, quick, 0, x.length);
        double sum = VectorMath.expShifted(x, softmax, 0, 1000, 30f, 1f);
        float[] cdf = new float[x.length];
        float[] pdf = new float[x.length];
        VectorMath.normalCdf(x, 0, cdf, 0, x.length);
        VectorMath.normalPdf(x, 0, pdf, 0, x.length);
        for (int i = 0; i < 3000; i++) {
            VectorMath.normalCdf(x, 0, new float[x.length], 0, x.length);
            VectorMath.normalPdf(x, 0, new float[x.length], 0, x.length);
            floatExp(x);
            VectorMath.silu(x, new float[x.length], 0, x.length);
            VectorMath.gelu(x, new float[x.length], 0, x.length);
            VectorMath.quickGelu(x, new float[x.length], 0, x.length);
            VectorMath.expShifted(x, x.clone(), 0, 1000, 30f, 1f);
        }
        float[] warmSilu = new float[x.length];
        float[] warmGelu = new float[x.length];
        float[] warmSoftmax = x.clone();
        VectorMath.silu(x, warmSilu, 0, x.length);
        VectorMath.gelu(x, warmGelu, 0, x.length);
        float[] warmQuick = new float[x.length];
        VectorMath.quickGelu(x, warmQuick, 0, x.length);
        assertArrayEquals(quick, warmQuick);
        assertEquals(sum, VectorMath.expShifted(x, warmSoftmax, 0, 1000, 30f, 1f));
        assertArrayEquals(exp, floatExp(x));
        assertArrayEquals(silu, warmSilu);
        assertArrayEquals(gelu, warmGelu);
        assertArrayEquals(softmax, warmSoftmax);
        float[] warmCdf = new float[x.length];
        float[] warmPdf = new float[x.length];
        VectorMath.normalCdf(x, 0, warmCdf, 0, x.length);
        VectorMath.normalPdf(x, 0, warmPdf, 0, x.length);
        assertArrayEquals(cdf, warmCdf);
        assertArrayEquals(pdf, warmPdf);
    }

    @Test
    void normalCdfAndPdfAgreeWithDoublePrecision() {
        int n = 4001; // x from −20 to 20 in steps of 0.01, and a scalar tail
        float[] x = ramp(n, 100f);
        float[] cdf = new float[n];
        float[] pdf = new float[n];
        VectorMath.normalCdf(x, 0, cdf, 0, n);
        VectorMath.normalPdf(x, 0, pdf, 0, n);
        for (int i = 0; i < n; i++) {
            double expectedCdf = 0.5 * (1 + Erf.erf(x[i] / Math.sqrt(2)));
            double expectedPdf = Math.exp(-0.5 * (double) x[i] * x[i]) / Math.sqrt(2 * Math.PI);
            // the Chebyshev fit's relative error on the tail's erfc plus float rounding; pdf flushes below 2^-125
            assertEquals(expectedCdf, cdf[i], 5e-7 * Math.min(expectedCdf, 1 - expectedCdf) + 6e-8, "Φ(" + x[i] + ")");
            assertEquals(expectedPdf, pdf[i], expectedPdf < 0x1p-125 ? 0x1p-125 : 4 * Math.ulp((float) expectedPdf),
                    "φ(" + x[i] + ")");
        }
    }

    @Test
    void quickGeluAndSiluAgreeWithDoublePrecision() {
        int n = 4001; // x from −100 to 100 in steps of 0.05, and a scalar tail
        float[] x = ramp(n, 20f);
        float[] quick = new float[n];
        float[] silu = new float[n];
        VectorMath.quickGelu(x, quick, 0, n);
        VectorMath.silu(x, silu, 0, n);
        for (int i = 0; i < n; i++) {
            double v = x[i];
            double expectedSilu = v / (1 + Math.exp(-v));
            // 1.702·x rounded to float first, as CLIP's float32 code has it; exp and the division add a few ulps
            double q = v / (1 + Math.exp(-(double) (1.702f * x[i])));
            assertEquals(q, quick[i], 4 * Math.ulp((float) q) + 1e-30, "quickGelu(" + x[i] + ")");
            assertEquals(expectedSilu, silu[i], 4 * Math.ulp((float) expectedSilu) + 1e-30, "silu(" + x[i] + ")");
        }
    }
}
