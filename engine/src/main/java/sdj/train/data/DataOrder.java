package sdj.train.data;

import java.util.SplittableRandom;

/**
 * The seeded randomness of the data: each epoch's order of dataset items, and each image's crop and
 * flip. Every stream is derived from (seed, epoch, item, role) alone, never from what was drawn
 * before, so any batch can be rebuilt from its {@link DataPosition} without replaying the run.
 */
final class DataOrder {
    private static final long ORDER = 0x4f52444552L;        // "ORDER": the stream of an epoch's permutation
    private static final long AUGMENT = 0x4155474d454eL;    // "AUGMEN": the stream of one image's crop and flip

    private DataOrder() {
    }

    /** Item indices 0..length−1 in the order epoch {@code epoch} visits them (Fisher–Yates when shuffled). */
    static int[] epoch(long seed, int epoch, int length, boolean shuffle) {
        int[] order = new int[length];
        for (int i = 0; i < length; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rng = new SplittableRandom(key(seed, ORDER, epoch, 0));
            for (int i = length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /** The crop/flip stream of dataset item {@code item} in {@code epoch}; role 0 = instance, 1 = class image. */
    static SplittableRandom augmentation(long seed, int epoch, int item, int role) {
        return new SplittableRandom(key(seed, AUGMENT + role, epoch, item));
    }

    private static long key(long seed, long stream, long a, long b) {
        long h = mix(seed ^ stream);
        h = mix(h ^ a);
        return mix(h ^ b * 0x9E3779B97F4A7C15L);
    }

    /** MurmurHash3's 64-bit finaliser: every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ z >>> 33) * 0xff51afd7ed558ccdL;
        z = (z ^ z >>> 33) * 0xc4ceb9fe1a85ec53L;
        return z ^ z >>> 33;
    }
}
