package sdj.backend.cpu;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reusable float[] buffers for temporaries that live only inside one op call: im2col columns, attention
 * score blocks, a transposed product. A UNet step asks for the same few sizes over and over, so after the
 * first step these come from the pool instead of the allocator (and are not zeroed again by the JVM).
 *
 * <p>Buffers are kept by power-of-two size class; {@link #take} may return a longer array than asked
 * for, with arbitrary contents. Pooled memory is capped ({@code -Dsdj.scratch.maxBytes}) so a one-off huge
 * request is not kept forever.
 */
public final class Scratch {
    private static final int CLASSES = 32;
    /** 1 GiB, or an eighth of a smaller heap (the launcher sizes a generation's heap to its need). */
    private static final long MAX_POOLED_BYTES = Long.getLong("sdj.scratch.maxBytes",
            Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 8));
    @SuppressWarnings("unchecked")
    private static final ConcurrentLinkedDeque<float[]>[] FREE = new ConcurrentLinkedDeque[CLASSES];
    private static final AtomicLong POOLED_BYTES = new AtomicLong();

    static {
        for (int i = 0; i < CLASSES; i++) {
            FREE[i] = new ConcurrentLinkedDeque<>();
        }
    }

    private Scratch() {
    }

    /** A buffer of at least {@code length} floats, contents undefined; give it back with {@link #give}. */
    public static float[] take(int length) {
        int sizeClass = sizeClass(length);
        float[] buffer = FREE[sizeClass].pollFirst();
        if (buffer == null) {
            return new float[1 << sizeClass];
        }
        POOLED_BYTES.addAndGet(-4L * buffer.length);
        return buffer;
    }

    /** Returns a buffer from {@link #take}; the caller must not touch it afterwards. */
    public static void give(float[] buffer) {
        if (buffer == null || Integer.bitCount(buffer.length) != 1) {
            return;
        }
        if (POOLED_BYTES.addAndGet(4L * buffer.length) > MAX_POOLED_BYTES) {
            POOLED_BYTES.addAndGet(-4L * buffer.length);
            return;
        }
        FREE[Integer.numberOfTrailingZeros(buffer.length)].addFirst(buffer);
    }

    /** Bytes currently held in the pool. */
    public static long pooledBytes() {
        return POOLED_BYTES.get();
    }

    private static int sizeClass(int length) {
        if (length > 1 << 30) {
            throw new IllegalArgumentException("scratch buffer of " + length + " floats exceeds the 2^30 limit");
        }
        return length <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(length - 1);
    }
}
