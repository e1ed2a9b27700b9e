package sdj.train.optim;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * bitsandbytes' 8-bit dynamic quantization map ({@code create_dynamic_map}, 7 exponent bits): 256 sorted float32
 * code values in [−1, 1] whose spacing shrinks by a factor of 10 per decade from 1 down to 1e-6, so small
 * values keep a relative precision that a linear 8-bit map would lose. A value is stored as the byte index of
 * its nearest code value after dividing by its block's absolute maximum.
 */
public final class DynamicQuantMap {
    private static final int EXPONENT_BITS = 7;

    /** A bucket keeps 10 of the 23 mantissa bits: it spans ≤ 0.1%, neighbouring code values are ≥ 0.35% apart. */
    private static final int BUCKET_SHIFT = 13;
    /** Magnitudes below 2^-32 share one bucket: the smallest code value is ~3e-7, far above. */
    private static final int LOWEST_KEY = Float.floatToRawIntBits(0x1p-32f) >>> BUCKET_SHIFT;
    private static final int ONE_BITS = Float.floatToRawIntBits(1f);
    private static final int KEYS = (ONE_BITS >>> BUCKET_SHIFT) - LOWEST_KEY + 1;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    private static final int LOW_BITS = (1 << BUCKET_SHIFT) - 1;

    private final float[] code;
    /** thresholds[k]: the largest float that {@link #quantize} maps to index ≤ k; +∞ at 255. */
    private final float[] thresholds = new float[256];
    /**
     * Per bucket of floats (sign, exponent, top 10 mantissa bits; positive buckets first): the number of thresholds
     * below the bucket in the low 8 bits, and above them the cut: x in the bucket lies above the one threshold inside
     * it when x's 13 low bits, flipped for a negative x so that they grow with x, exceed the cut ({@link #LOW_BITS}
     * when no threshold is inside).
     */
    private final int[] buckets = new int[2 * KEYS];

    private DynamicQuantMap(float[] code) {
        this.code = code;
        buildBuckets();
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

    /**
     * {@link #quantize}, faster for x in [−1, 1] (as an optimizer's moment divided by its block's absmax always is):
     * the float's bucket tells how many thresholds lie below it, and at most one more threshold lies inside it.
     */
    public byte quantizeUnit(float x) {
        int bits = Float.floatToRawIntBits(x);
        int magnitude = bits & 0x7fffffff;
        if (magnitude > ONE_BITS) {
            return quantize(x); // beyond ±1, or NaN
        }
        // no branches on the data (a mispredicted sign or comparison costs more than the rest)
        int key = Math.max(magnitude >>> BUCKET_SHIFT, LOWEST_KEY) - LOWEST_KEY;
        int bucket = buckets[key + (bits >>> 31) * KEYS];
        int order = (bits & LOW_BITS) ^ ((bits >> 31) & LOW_BITS);
        return (byte) ((bucket & 0xff) + (((bucket >>> 8) - order) >>> 31));
    }

    /**
     * out[at + j] = quantizeUnit(x[j]) for j in [0, len), a vector of lanes at a time with one table gather (its
     * indices go through scratch, at least one vector of ints long) where float and int vectors have as many lanes.
     */
    public void quantizeUnits(float[] x, int len, byte[] out, int at, int[] scratch) {
        int j = 0;
        if (F.length() == I.length()) {
            for (int upper = F.loopBound(len); j < upper; j += F.length()) {
                IntVector bits = FloatVector.fromArray(F, x, j).reinterpretAsInts();
                IntVector magnitude = bits.and(0x7fffffff);
                VectorMask<Integer> outside = magnitude.compare(VectorOperators.GT, ONE_BITS);
                if (outside.anyTrue()) {
                    for (int k = j; k < j + F.length(); k++) {
                        out[at + k] = quantizeUnit(x[k]);
                    }
                    continue;
                }
                magnitude.lanewise(VectorOperators.LSHR, BUCKET_SHIFT).max(LOWEST_KEY).sub(LOWEST_KEY)
                        .add(bits.lanewise(VectorOperators.LSHR, 31).mul(KEYS)).intoArray(scratch, 0);
                IntVector bucket = IntVector.fromArray(I, buckets, 0, scratch, 0);
                IntVector order = bits.and(LOW_BITS).lanewise(VectorOperators.XOR,
                        bits.lanewise(VectorOperators.ASHR, 31).and(LOW_BITS));
                VectorMask<Integer> above = order.compare(VectorOperators.GT, bucket.lanewise(VectorOperators.LSHR, 8));
                bucket.and(0xff).lanewise(VectorOperators.ADD, 1, above)
                        .convertShape(VectorOperators.I2B, ByteVector.SPECIES_128, 0).reinterpretAsBytes()
                        .intoArray(out, at + j);
            }
        }
        for (; j < len; j++) {
            out[at + j] = quantizeUnit(x[j]);
        }
    }

    private void buildBuckets() {
        for (int k = 0; k < 255; k++) {
            thresholds[k] = largestMappedAtMost(k);
        }
        thresholds[255] = Float.POSITIVE_INFINITY;
        for (int key = 0; key < KEYS; key++) {
            int lowBits = (key + LOWEST_KEY) << BUCKET_SHIFT;
            float low = key == 0 ? 0f : Float.intBitsToFloat(lowBits);
            float high = Float.intBitsToFloat(lowBits | LOW_BITS);
            buckets[key] = bucket(low, high, key == 0);
            buckets[KEYS + key] = bucket(-high, key == 0 ? -0f : -low, key == 0);
        }
    }

    /**
     * The table entry of the bucket [lo, hi]: the thresholds under lo, and the cut of the one inside (the bottom
     * bucket, which merges every magnitude under 2^-32, must have none).
     */
    private int bucket(float lo, float hi, boolean merged) {
        int base = bucketBase(lo, hi);
        float inside = thresholds[base];
        if (!(inside < hi)) {
            return base | LOW_BITS << 8;
        }
        if (merged) {
            throw new AssertionError("a code boundary inside the bottom bucket [" + lo + ", " + hi + "]");
        }
        int bits = Float.floatToRawIntBits(inside);
        return base | ((bits & LOW_BITS) ^ ((bits >> 31) & LOW_BITS)) << 8;
    }

    /** The number of thresholds under lo; more than one threshold inside [lo, hi] would break quantizeUnit. */
    private int bucketBase(float lo, float hi) {
        int base = 0;
        while (thresholds[base] < lo) {
            base++;
        }
        if (thresholds[base] < hi && thresholds[base + 1] < hi) {
            throw new AssertionError("two code boundaries inside the bucket [" + lo + ", " + hi + "]");
        }
        return base;
    }

    /** The largest float x in [−1, 1] with quantize(x) ≤ k (quantize is monotone). */
    private float largestMappedAtMost(int k) {
        int lo = sortable(-1f), hi = sortable(1f); // quantize(−1) = 0 ≤ k < 255 = quantize(1)
        while (hi - lo > 1) {
            int mid = lo + (hi - lo) / 2;
            if ((quantize(unsortable(mid)) & 0xff) <= k) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return unsortable(lo);
    }

    /** A float's bits as an int that orders like the float (−0 just below +0). */
    private static int sortable(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits < 0 ? -(bits & 0x7fffffff) - 1 : bits;
    }

    private static float unsortable(int i) {
        return Float.intBitsToFloat(i < 0 ? (-i - 1) | 0x80000000 : i);
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
