package sdj.train.optim;

import java.util.Arrays;

/**
 * bitsandbytes' 8-bit dynamic quantization map ({@code create_dynamic_map}, 7 exponent bits): 256 sorted float32
 * code values in [−1, 1] whose spacing shrinks by a factor of 10 per decade from 1 down to 1e-6, so small
 * values keep a relative precision that a linear 8-bit map would lose. A value is stored as the byte index of
 * its nearest code value after dividing by its block's absolute maximum.
 */
public final class DynamicQuantMap {
    private static final int EXPONENT_BITS = 7;

    private final float[] code;

    private DynamicQuantMap(float[] code) {
        this.code = code;
    }

    /**
     * The signed map (for Adam's first moment: 127 positive and 127 negative values, 0 and 1) or the unsigned one
     * (second moment: 254 positive values, 0 and 1). Decade i (values 10^(i−6)·[0.1, 1]) holds the midpoints of
     * a float32 {@code linspace(0.1, 1, n)} with n = 2^i + 1 (signed) or 2^(i+1) + 1 (unsigned).
     */
    public static DynamicQuantMap of(boolean signed) {
        float[] values = new float[256];
        int count = 0;
        for (int i = 0; i < EXPONENT_BITS; i++) {
            int items = signed ? (1 << i) + 1 : (1 << (i + 1)) + 1;
            float[] bounds = linspace(0.1f, 1f, items);
            float scale = (float) Math.pow(10, -(EXPONENT_BITS - 1) + i);
            for (int j = 0; j + 1 < items; j++) {
                float mean = (bounds[j] + bounds[j + 1]) / 2f;
                values[count++] = scale * mean;
                if (signed) {
                    values[count++] = -scale * mean;
                }
            }
        }
        values[count++] = 0f;
        values[count++] = 1f;
        if (count != 256) {
            throw new AssertionError("the dynamic map has " + count + " values, not 256");
        }
        Arrays.sort(values);
        return new DynamicQuantMap(values);
    }

    /** torch.linspace in float32 (the first half counted up from start, the second down from end). */
    private static float[] linspace(float start, float end, int steps) {
        float step = (end - start) / (steps - 1);
        float[] out = new float[steps];
        for (int i = 0; i < steps; i++) {
            out[i] = i < steps / 2 ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }

    /** The code value of a byte index. */
    public float value(int index) {
        return code[index & 0xff];
    }

    /** A copy of the 256 code values, ascending. */
    public float[] values() {
        return code.clone();
    }

    /** The byte index of the code value nearest to x (x already divided by its block's absmax, so in [−1, 1]). */
    public byte quantize(float x) {
        int pos = Arrays.binarySearch(code, x);
        if (pos >= 0) {
            return (byte) pos;
        }
        int hi = -pos - 1;
        if (hi == 0) {
            return 0;
        }
        if (hi == code.length) {
            return (byte) (code.length - 1);
        }
        return (byte) (x - code[hi - 1] <= code[hi] - x ? hi - 1 : hi);
    }
}
