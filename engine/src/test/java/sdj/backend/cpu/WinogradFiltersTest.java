package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdj.tensor.Tensor;

/** F(4,3)'s own filter-transform kernel against the generic coefficient-table path, bit for bit. */
class WinogradFiltersTest {
    @ParameterizedTest(name = "{0}→{1}, channels [{2}, {3}), transposed {4}")
    @CsvSource({"37, 19, 0, 19, false", "37, 19, 0, 19, true", "300, 2, 1, 2, false", "16, 32, 3, 29, true",
        "1, 1, 0, 1, false"})
    void ownKernelGivesTheGenericTransformBitForBit(int c, int o, int o0, int o1, boolean transposed) {
        // a few hundred filters: whole blocks of 256, a short last one, a last vector of a few lanes
        Random r = new Random(c * 31L + o);
        float[] w = new float[o * c * 9];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian() * (i % 7 == 0 ? 1e-3f : 1f);
        }
        w[0] = -0f;
        Tensor weight = transposed ? Tensor.of(w, c, o, 3, 3) : Tensor.of(w, o, c, 3, 3);
        int values = 36 * (o1 - o0) * c;
        float[] own = new float[values + 16];
        float[] generic = new float[values + 16];
        java.util.Arrays.fill(own, Float.NaN); // a value the kernel skips stays NaN, and NaN ≠ a number
        java.util.Arrays.fill(generic, 7f);
        own[values] = generic[values] = 0f;
        for (int k = values + 1; k < values + 16; k++) {
            own[k] = generic[k] = 5f; // nothing past U is written
        }
        WinogradFilters.transform(WinogradTiles.F4, weight, o, c, o0, o1, transposed, own, true);
        WinogradFilters.transform(WinogradTiles.F4, weight, o, c, o0, o1, transposed, generic, false);
        assertArrayEquals(generic, own);
    }
}
