package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdj.tensor.Tensor;

/**
 * The filter transform against a scalar transcription of U = G g Gᵀ, each value the fma chain over the nonzero
 * coefficients of G's row in order: bit for bit, for both tile sizes, whole and short blocks, both filter layouts.
 */
class WinogradFiltersTest {
    @ParameterizedTest(name = "F({0},3) {1}→{2}, channels [{3}, {4}), transposed {5}")
    @CsvSource({"4, 37, 19, 0, 19, false", "4, 37, 19, 0, 19, true", "4, 300, 2, 1, 2, false", "4, 16, 32, 3, 29, true",
        "4, 1, 1, 0, 1, false", "2, 37, 19, 0, 19, false", "2, 16, 32, 3, 29, true"})
    void valuesAreTheFmaChainsOverGsRows(int m, int c, int o, int o0, int o1, boolean transposed) {
        WinogradTiles f = m == 4 ? WinogradTiles.F4 : WinogradTiles.F2;
        int alpha = f.alpha;
        Random r = new Random(c * 31L + o);
        float[] w = new float[o * c * 9];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian() * (i % 7 == 0 ? 1e-3f : 1f);
        }
        w[0] = -0f;
        w[1] = 0f;
        Tensor weight = transposed ? Tensor.of(w, c, o, 3, 3) : Tensor.of(w, o, c, 3, 3);
        int filters = (o1 - o0) * c;
        float[] u = new float[alpha * alpha * filters + 16];
        java.util.Arrays.fill(u, Float.NaN); // a value never written stays NaN
        u[u.length - 16] = 5f;
        WinogradFilters.transform(f, weight, o, c, o0, o1, transposed, u);
        for (int p = 0; p < filters; p++) {
            int oc = o0 + p / c;
            int ic = p % c;
            float[][] g = new float[3][3];
            for (int k = 0; k < 9; k++) {
                g[k / 3][k % 3] = transposed ? w[(ic * o + oc) * 9 + 8 - k] : w[(oc * c + ic) * 9 + k];
            }
            for (int i = 0; i < alpha; i++) {
                float[] half = new float[3];
                for (int v = 0; v < 3; v++) {
                    half[v] = chain(f.gf[i], g[0][v], g[1][v], g[2][v]);
                }
                for (int j = 0; j < alpha; j++) {
                    float expected = chain(f.gf[j], half[0], half[1], half[2]);
                    assertEquals(expected, u[(i * alpha + j) * filters + p], 0f, "U[" + i + "][" + j + "] of filter " + p);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(u[(i * alpha + j) * filters + p]),
                            "the bits of U[" + i + "][" + j + "] of filter " + p);
                }
            }
        }
        assertEquals(5f, u[u.length - 16], "nothing past U is written");
    }

    /** acc = 0, then acc = fma(x_k, coef_k, acc) for each nonzero coefficient in order. */
    private static float chain(float[] coef, float x0, float x1, float x2) {
        float[] x = {x0, x1, x2};
        float acc = 0f;
        for (int k = 0; k < 3; k++) {
            if (coef[k] != 0f) {
                acc = Math.fma(x[k], coef[k], acc);
            }
        }
        return acc;
    }
}
