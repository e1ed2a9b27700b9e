package sdj.nn;

import java.nio.charset.StandardCharsets;

/**
 * Seeds derived from (seed, full parameter name), so a parameter created by get-or-init has the same
 * values whatever else was created before it: FNV-1a 64 over the name's UTF-8 bytes, xor the seed,
 * then SplitMix64's finaliser to spread nearby seeds and names over all 64 bits.
 */
final class NameSeeds {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private NameSeeds() {
    }

    static long of(long seed, String name) {
        long h = FNV_OFFSET;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        return mix(h ^ seed);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
