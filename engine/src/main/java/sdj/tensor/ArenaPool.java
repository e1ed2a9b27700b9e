package sdj.tensor;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The free list behind {@link ActivationArena}: fp32 arrays handed back by closed scopes, kept by exact
 * length (a tensor wraps its whole array, so a longer one would not do; a UNet step asks for the same
 * few dozen lengths every time). Bounded: an array that would take the pool over its cap is left to
 * the GC, so the pool never holds more than {@code sdj.arena.maxBytes} (default 2 GiB, or half of a smaller heap).
 */
final class ArenaPool {
    private static final long MAX_POOLED_BYTES = Long.getLong("sdj.arena.maxBytes",
            Math.min(2L << 30, Runtime.getRuntime().maxMemory() / 2));

    private final ConcurrentHashMap<Integer, ConcurrentLinkedDeque<float[]>> free = new ConcurrentHashMap<>();
    private final AtomicLong pooledBytes = new AtomicLong();
    private final AtomicLong reusedBytes = new AtomicLong();

    /** A zero-filled array of exactly {@code length} floats from the pool, or null when it has none. */
    float[] take(int length) {
        ConcurrentLinkedDeque<float[]> list = free.get(length);
        float[] array = list == null ? null : list.pollFirst();
        if (array == null) {
            return null;
        }
        pooledBytes.addAndGet(-4L * length);
        reusedBytes.addAndGet(4L * length);
        Arrays.fill(array, 0f); // ops may accumulate into their output, as into a fresh array
        return array;
    }

    /** Keeps {@code array} for a later {@link #take}, unless that would pass the cap; poison fills it with NaN first. */
    void give(float[] array, boolean poison) {
        if (poison) {
            Arrays.fill(array, Float.NaN); // a reader that should not be there now sees NaN, not stale values
        }
        if (pooledBytes.addAndGet(4L * array.length) > MAX_POOLED_BYTES) {
            pooledBytes.addAndGet(-4L * array.length);
            return;
        }
        free.computeIfAbsent(array.length, n -> new ConcurrentLinkedDeque<>()).addFirst(array);
    }

    /** Drops every pooled array (to the GC). */
    void clear() {
        for (ConcurrentLinkedDeque<float[]> list : free.values()) {
            float[] array;
            while ((array = list.pollFirst()) != null) {
                pooledBytes.addAndGet(-4L * array.length);
            }
        }
    }

    long pooledBytes() {
        return pooledBytes.get();
    }

    long reusedBytes() {
        return reusedBytes.get();
    }
}
