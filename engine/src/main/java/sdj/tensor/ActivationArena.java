package sdj.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Recycles the fp32 arrays of CPU op outputs between module forwards, so a sampling loop stops
 * allocating its activations again at every step (issue #19, "activations reused").
 *
 * <p>A module opens a {@link Scope} around its forward and passes its result through {@link Scope#keep}.
 * While the scope is the innermost one, CPU ops take their output arrays from {@link #floats} and the
 * scope lists them. At close every listed array that the kept result cannot reach (its storage, and
 * through a grad function the inputs it saved) goes back to a pool that later {@link #floats} calls take
 * from; the kept ones move to the enclosing scope, which recycles them once its own result no longer
 * needs them. Only arrays allocated inside the scope are ever recycled, never its inputs. The one rule for
 * code inside a scope: whatever it computes that must outlive the scope leaves through {@code keep} (an op
 * output stashed in a field or a caller's list instead would be recycled under it; check mode shows that).
 *
 * <p>Safe by construction where it matters: a scope records only under no-grad (opened with grad on,
 * as in training, it does nothing, so nothing the tape saves is recycled) and pauses inside an
 * {@code enableGrad} or checkpoint probe opened within it. A scope left by an exception recycles nothing.
 * Device (CUDA) storages never come here. {@code -Dsdj.arena=off} turns it off for A/B runs;
 * {@code check} also fills recycled arrays with NaN so a stale reader shows up in the results.
 */
public final class ActivationArena {
    /** Off: plain allocation; on: recycling; check: recycling that poisons released arrays. */
    public enum Mode { OFF, ON, CHECK }

    private static volatile Mode mode = parseMode(System.getProperty("sdj.arena", "on"));
    private static final ArenaPool POOL = new ArenaPool();
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();
    private static final LongAdder FRESH_BYTES = new LongAdder();
    private static final Scope INACTIVE = new Scope(null, -1);

    private ActivationArena() {
    }

    static Mode parseMode(String value) {
        try {
            return Mode.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-Dsdj.arena=" + value + " is not a mode of the activation arena;"
                    + " use on, off or check");
        }
    }

    public static Mode mode() {
        return mode;
    }

    /** Switches the mode (A/B runs and tests) and returns the previous one; the pool is emptied. */
    public static Mode use(Mode newMode) {
        Mode previous = mode;
        mode = newMode;
        POOL.clear();
        return previous;
    }

    /** Opens a scope on this thread; it records only when the arena is on and nothing can be recorded by autograd. */
    public static Scope open() {
        GradMode grad = GradMode.current();
        if (mode == Mode.OFF || !grad.recordsNothing()) {
            return INACTIVE;
        }
        Scope scope = new Scope(CURRENT.get(), grad.recordingScopes());
        CURRENT.set(scope);
        return scope;
    }

    /**
     * A zero-filled fp32 array of {@code length} floats for an op's output: from the pool and listed in
     * the innermost scope while one records, else a fresh array.
     */
    public static float[] floats(int length) {
        Scope scope = CURRENT.get();
        if (scope == null || !scope.recordsNow()) {
            FRESH_BYTES.add(4L * length);
            return new float[length];
        }
        float[] array = POOL.take(length);
        if (array == null) {
            FRESH_BYTES.add(4L * length);
            array = new float[length];
        }
        scope.allocated.add(array);
        return array;
    }

    /** Empties the pool (the end of a sampling run): its arrays go to the GC. */
    public static void releasePool() {
        POOL.clear();
    }

    /** Bytes held in the pool now. */
    public static long pooledBytes() {
        return POOL.pooledBytes();
    }

    /** Bytes of op outputs allocated fresh (outside a scope, or not found in the pool), since start-up. */
    public static long freshBytes() {
        return FRESH_BYTES.sum();
    }

    /** Bytes handed out from the pool instead of allocated, since start-up. */
    public static long reusedBytes() {
        return POOL.reusedBytes();
    }

    /** One module forward's allocations; close it with try-with-resources. */
    public static final class Scope implements AutoCloseable {
        private final Scope parent;
        private final int recordingScopesAtOpen;
        private final List<float[]> allocated = new ArrayList<>();
        private final Set<float[]> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        private boolean resultGiven;

        private Scope(Scope parent, int recordingScopesAtOpen) {
            this.parent = parent;
            this.recordingScopesAtOpen = recordingScopesAtOpen;
        }

        private boolean active() {
            return this != INACTIVE;
        }

        /** Whether an allocation now belongs to this scope: no enableGrad or probe opened since it was. */
        private boolean recordsNow() {
            GradMode grad = GradMode.current();
            return grad.recordsNothing() && grad.recordingScopes() == recordingScopesAtOpen;
        }

        /**
         * Takes over {@code input}'s array from the enclosing scope when that scope allocated it: this scope then
         * recycles it at close unless its result reaches it. For a chain of layers whose output only the next
         * layer reads (a decoder's blocks), so each output goes back to the pool once the next layer is done,
         * not when the whole chain is. Anything else (the caller's tensors, arrays of other scopes) is left
         * alone. Returns {@code input}.
         */
        public Tensor adopt(Tensor input) {
            float[] heap = input.storage().heapFloats();
            if (active() && heap != null && parent != null && parent.recordingScopesAtOpen == recordingScopesAtOpen
                    && removeSame(parent.allocated, heap)) {
                allocated.add(heap);
            }
            return input;
        }

        private static boolean removeSame(List<float[]> arrays, float[] array) {
            for (int i = arrays.size() - 1; i >= 0; i--) { // the newest first: a chain adopts its last output
                if (arrays.get(i) == array) {
                    arrays.remove(i);
                    return true;
                }
            }
            return false;
        }

        /** Declares {@code result} (and all it reaches) the scope's output; returns it. Call once per result. */
        public Tensor keep(Tensor result) {
            if (!active()) {
                return result;
            }
            resultGiven = true;
            ArrayDeque<Tensor> pending = new ArrayDeque<>();
            Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            pending.push(result);
            while (!pending.isEmpty()) {
                Tensor t = pending.pop();
                if (t == null || !seen.add(t)) {
                    continue;
                }
                float[] heap = t.storage().heapFloats();
                if (heap != null) {
                    kept.add(heap);
                }
                if (t.gradFn() != null) { // recorded under an enableGrad inside: what the tape saved stays
                    for (Tensor in : t.gradFn().inputs) {
                        pending.push(in);
                    }
                }
            }
            return result;
        }

        @Override
        public void close() {
            if (!active()) {
                return;
            }
            if (CURRENT.get() != this) {
                throw new IllegalStateException(
                        "activation arena scopes closed out of order: close the innermost first");
            }
            CURRENT.set(parent);
            if (!resultGiven) {
                return; // left early (an exception): who holds what is unknown, so the GC decides
            }
            Scope heir = parent != null && parent.recordingScopesAtOpen == recordingScopesAtOpen ? parent : null;
            boolean poison = mode == Mode.CHECK;
            for (float[] array : allocated) {
                if (kept.contains(array)) {
                    if (heir != null) {
                        heir.allocated.add(array);
                    }
                } else {
                    POOL.give(array, poison);
                }
            }
        }
    }
}
