package sdj.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import sdj.tensor.Tensor;

/**
 * Reference arithmetic for the adapter tests, written out as loops in double over the flat row-major
 * arrays: matrix products, a convolution with per-side padding, and a close-enough check.
 */
final class HandMath {
    private HandMath() {
    }

    static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    static Tensor randomTensor(long seed, int... shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return Tensor.of(random(seed, n), shape);
    }

    /** a [m, k] · b [k, n]. */
    static double[] matmul(double[] a, double[] b, int m, int k, int n) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < k; t++) {
                    s += a[i * k + t] * b[t * n + j];
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    /** x [rows, in] · wᵀ for w [out, in]. */
    static double[] timesTransposed(double[] x, double[] w, int rows, int in, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    /** Convolution of x [n, c, h, w] with w [o, c, k, k], zero padding (top, bottom, left, right), no bias. */
    static double[] conv(double[] x, int[] xs, double[] w, int o, int k, int stride, int pt, int pb, int pl, int pr) {
        int n = xs[0];
        int c = xs[1];
        int h = xs[2];
        int wd = xs[3];
        int ho = (h + pt + pb - k) / stride + 1;
        int wo = (wd + pl + pr - k) / stride + 1;
        double[] out = new double[n * o * ho * wo];
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                for (int oy = 0; oy < ho; oy++) {
                    for (int ox = 0; ox < wo; ox++) {
                        double s = 0;
                        for (int ic = 0; ic < c; ic++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * stride + ky - pt;
                                    int ix = ox * stride + kx - pl;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        s += x[((b * c + ic) * h + iy) * wd + ix] * w[((oc * c + ic) * k + ky) * k + kx];
                                    }
                                }
                            }
                        }
                        out[((b * o + oc) * ho + oy) * wo + ox] = s;
                    }
                }
            }
        }
        return out;
    }

    /** Adds bias[channel] to every element of an NC… tensor with {@code inner} elements per channel. */
    static double[] addChannelBias(double[] y, double[] bias, int inner) {
        double[] out = y.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += bias[(i / inner) % bias.length];
        }
        return out;
    }

    static double[] axpy(double[] y, double a, double[] x) {
        double[] out = y.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += a * x[i];
        }
        return out;
    }

    static double[] d(Tensor t) {
        float[] f = t.toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** max |expected − actual| ≤ tol · max(1, max |expected|). */
    static void assertClose(double[] expected, Tensor actual, double tol, String what) {
        float[] a = actual.toFloatArray();
        assertEquals(expected.length, a.length, what + ": element count");
        double maxRef = 1;
        double maxErr = 0;
        for (int i = 0; i < a.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            double e = Math.abs(expected[i] - a[i]);
            maxErr = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(maxErr, e);
        }
        assertTrue(maxErr <= tol * maxRef, what + ": max error " + maxErr + " > " + tol + " × " + maxRef);
    }
}
