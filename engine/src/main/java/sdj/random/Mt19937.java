package sdj.random;

/**
 * The 32-bit Mersenne Twister (Matsumoto and Nishimura 1998) as PyTorch's {@code at::mt19937}
 * seeds it: {@code init_genrand} on the low 32 bits of the seed, the whole state regenerated every
 * 624 outputs. Outputs are unsigned 32-bit values held in the low bits of an int.
 */
final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    private final int[] state = new int[N];
    private int next;

    Mt19937(long seed) {
        state[0] = (int) seed; // torch keeps only the low 32 bits
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        next = N; // the first draw regenerates the state, as torch's left_ = 1 does
    }

    /** The next 32 random bits. */
    int nextInt() {
        if (next >= N) {
            regenerate();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private void regenerate() {
        for (int k = 0; k < N; k++) {
            int y = (state[k] & UPPER_MASK) | (state[(k + 1) % N] & LOWER_MASK);
            int mag = (y & 1) != 0 ? MATRIX_A : 0;
            state[k] = state[(k + M) % N] ^ (y >>> 1) ^ mag;
        }
        next = 0;
    }
}
