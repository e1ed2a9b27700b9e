package sdj.train.run;

import sdj.random.TorchGenerator;

/**
 * The random draws of one micro-batch: the VAE posterior noise, the diffusion noise ε, the offset noise
 * and the timesteps, from a torch-compatible generator seeded by (run seed, micro-batch index). Nothing
 * carries over from one micro-batch to the next, so the whole RNG state of a run is its seed and its step
 * count: a resumed run draws exactly what the uninterrupted run would have drawn.
 */
final class StepRandom {
    private StepRandom() {
    }

    /** The generator of micro-batch {@code index} (0-based over the run: optimizer step × accumulation + k). */
    static TorchGenerator forMicroBatch(long seed, long index) {
        return new TorchGenerator(mix(mix(seed) ^ index));
    }

    /**
     * n timesteps uniform in {0, …, count − 1}, drawn as torch's CPU {@code randint} draws each element
     * (a 32-bit {@code random()} modulo the range, for ranges below 2³²).
     */
    static long[] timesteps(TorchGenerator g, int n, int count) {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = g.random() % count;
        }
        return t;
    }

    /** A seed for a run that was given none: different every run, kept in its checkpoints. */
    static long freshSeed() {
        return mix(System.nanoTime() ^ ProcessHandle.current().pid()) & 0xffffffffL;
    }

    /** MurmurHash3's 64-bit finaliser: every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ z >>> 33) * 0xff51afd7ed558ccdL;
        z = (z ^ z >>> 33) * 0xc4ceb9fe1a85ec53L;
        return z ^ z >>> 33;
    }
}
