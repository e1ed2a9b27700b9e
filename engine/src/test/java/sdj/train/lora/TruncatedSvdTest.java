package sdj.train.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The power-iteration path of {@link TruncatedSvd} against the exact one on the same matrices: equal
 * products with a spectral gap, and the same (optimal) error without one.
 */
class TruncatedSvdTest {
    private static final int M = 300;
    private static final int N = 120;

    /** A = Σ σ_i x_i y_iᵀ + noise·G with random (not orthogonal) x, y: a decaying spectrum. */
    private static double[] matrix(double noise, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[M * N];
        for (int t = 0; t < 6; t++) {
            double sigma = Math.pow(0.5, t);
            double[] x = new double[M];
            double[] y = new double[N];
            for (int i = 0; i < M; i++) {
                x[i] = r.nextDouble() - 0.5;
            }
            for (int j = 0; j < N; j++) {
                y[j] = r.nextDouble() - 0.5;
            }
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    a[i * N + j] += sigma * x[i] * y[j];
                }
            }
        }
        for (int i = 0; i < a.length; i++) {
            a[i] += noise * (r.nextDouble() - 0.5);
        }
        return a;
    }

    private static double[] product(TruncatedSvd.Factors f) {
        double[] p = new double[M * N];
        for (int i = 0; i < M; i++) {
            for (int k = 0; k < f.rank(); k++) {
                for (int j = 0; j < N; j++) {
                    p[i * N + j] += f.left()[i * f.rank() + k] * f.right()[k * N + j];
                }
            }
        }
        return p;
    }

    private static double frobeniusOfDifference(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    @Test
    void withAGapTheIterationGivesTheExactTruncation() {
        double[] a = matrix(0, 11); // rank 6: a gap to zero after the 6th value
        double[] exact = product(TruncatedSvd.of(a, M, N, 4, Integer.MAX_VALUE));
        double[] iterated = product(TruncatedSvd.of(a, M, N, 4, 0));
        double scale = 0;
        for (double v : exact) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertTrue(frobeniusOfDifference(exact, iterated) < 1e-9 * scale * Math.sqrt(a.length),
                "difference " + frobeniusOfDifference(exact, iterated));
    }

    @Test
    void withNoiseTheErrorIsTheOptimalOne() {
        double[] a = matrix(0.05, 12);
        double exactError = frobeniusOfDifference(a, product(TruncatedSvd.of(a, M, N, 4, Integer.MAX_VALUE)));
        double iteratedError = frobeniusOfDifference(a, product(TruncatedSvd.of(a, M, N, 4, 0)));
        assertTrue(exactError > 0);
        assertEquals(exactError, iteratedError, 1e-6 * exactError);
    }

    @Test
    void theRankIsCappedBySmallerSide() {
        TruncatedSvd.Factors f = TruncatedSvd.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3, 8);
        assertEquals(2, f.rank());
        assertEquals(4, f.left().length);
        assertEquals(6, f.right().length);
    }
}
