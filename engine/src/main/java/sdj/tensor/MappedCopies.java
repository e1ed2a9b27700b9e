package sdj.tensor;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the copies of fp32 host tensors that live outside the heap (weights used in place from a
 * memory-mapped checkpoint) into heap arrays by {@link Tensor#floats()} and {@link Tensor#toFloatArray()}.
 * The CPU kernels read such weights in place, so after loading a forward should make none; a count
 * that grows says which op still needs a heap array (the fallback: correct, but a copy per call).
 */
public final class MappedCopies {
    private static final LongAdder COPIES = new LongAdder();
    private static final LongAdder BYTES = new LongAdder();

    private MappedCopies() {
    }

    /** The copies so far and their bytes. */
    public record Count(long copies, long bytes) {
        /** What was copied between {@code earlier} and this count. */
        public Count since(Count earlier) {
            return new Count(copies - earlier.copies, bytes - earlier.bytes);
        }
    }

    public static Count now() {
        return new Count(COPIES.sum(), BYTES.sum());
    }

    static void record(long elements) {
        COPIES.increment();
        BYTES.add(4 * elements);
    }
}
