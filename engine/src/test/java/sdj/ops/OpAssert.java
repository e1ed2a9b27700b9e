package sdj.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import sdj.tensor.Tensor;

/** Assertions comparing an op's fp32 result with independently computed double values. */
public final class OpAssert {
    private OpAssert() {
    }

    /** Checks shape, then each element with |actual − expected| ≤ tol·max(1, |expected|). */
    public static void assertValues(double[] expected, int[] shape, Tensor actual, double tol) {
        assertArrayEquals(shape, actual.shape(), "shape");
        assertValues(expected, actual, tol);
    }

    public static void assertValues(double[] expected, Tensor actual, double tol) {
        float[] a = actual.toFloatArray();
        if (a.length != expected.length) {
            fail("expected " + expected.length + " values, got " + a.length);
        }
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
                fail(String.format("element %d: expected %.9g, got %.9g", i, expected[i], a[i]));
            }
        }
    }

    /** The tensor's values widened to double (for feeding naive reference loops). */
    public static double[] doubles(Tensor t) {
        float[] f = t.toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    public static Tensor t(int[] shape, float... values) {
        return Tensor.of(values, shape);
    }

    public static int[] shape(int... dims) {
        return dims;
    }
}
