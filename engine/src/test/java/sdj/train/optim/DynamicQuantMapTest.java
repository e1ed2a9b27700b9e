package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The bucketed quantizer the optimizer uses gives the binary search's nearest code value for every x in [−1, 1]. */
class DynamicQuantMapTest {
    @Test
    void bucketedQuantizeAgreesWithTheBinarySearch() {
        for (boolean signed : new boolean[] {true, false}) {
            DynamicQuantMap map = DynamicQuantMap.of(signed);
            float[] code = map.values();
            // every code value, the midpoints between neighbours, and a few floats either side of each
            for (int k = 0; k < 256; k++) {
                float c = code[k];
                check(map, c);
                check(map, -c);
                if (k < 255) {
                    float mid = (c + code[k + 1]) / 2;
                    for (int ulps = -3; ulps <= 3; ulps++) {
                        check(map, ulpsAway(mid, ulps));
                        check(map, ulpsAway(c, ulps));
                    }
                }
            }
            // a sweep over the float bit patterns of [−1, 1] (every 61st), and the specials
            int one = Float.floatToRawIntBits(1f);
            for (int bits = 0; bits <= one; bits += 61) {
                check(map, Float.intBitsToFloat(bits));
                check(map, -Float.intBitsToFloat(bits));
            }
            for (float x : new float[] {0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, 1.5f, -7f, Float.NaN,
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                check(map, x);
            }
            SplittableRandom r = new SplittableRandom(signed ? 3 : 4);
            float[] x = new float[1_000_003];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) ((r.nextBoolean() ? 1 : -1) * Math.pow(10, -8 * r.nextDouble()));
                check(map, x[i]);
            }
            x[5] = Float.NaN; // the vector path hands a lane group with a value beyond ±1 to the scalar one
            x[77] = 3f;
            x[1000] = -0f;
            byte[] codes = new byte[x.length + 2];
            map.quantizeUnits(x, x.length, codes, 2, new int[64]);
            for (int i = 0; i < x.length; i++) {
                assertEquals(map.quantize(x[i]), codes[2 + i], "vector lanes: code of " + x[i] + " at " + i);
            }
        }
    }

    private static float ulpsAway(float x, int ulps) {
        float y = x;
        for (int i = 0; i < Math.abs(ulps); i++) {
            y = ulps > 0 ? Math.nextUp(y) : Math.nextDown(y);
        }
        return y;
    }

    private static void check(DynamicQuantMap map, float x) {
        if (map.quantize(x) != map.quantizeUnit(x)) {
            assertEquals(map.quantize(x), map.quantizeUnit(x), "code of " + x + " (" + Float.floatToRawIntBits(x) + ")");
        }
    }
}
