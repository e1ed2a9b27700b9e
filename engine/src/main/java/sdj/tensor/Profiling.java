package sdj.tensor;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The hook a per-op profiler ({@code sdj bench … --profile}) plugs into: while one is installed,
 * {@link Backends#of} hands out its wrapping backend, and modules name themselves with
 * {@link #module(String)} so each op can be charged to the innermost LDM module running it. Autograd
 * charges a backward's ops to the module and op that recorded it ({@link #backwardOf}). Off (the
 * default) every hook is one static boolean check, and nothing is allocated or timed.
 */
public final class Profiling {
    private static volatile boolean on;
    private static final Map<Device, Backend> WRAPPED = new EnumMap<>(Device.class);
    private static UnaryOperator<Backend> wrapper;

    private static final ThreadLocal<ArrayDeque<String>> MODULES = ThreadLocal.withInitial(ArrayDeque::new);
    private static final ThreadLocal<ArrayDeque<String>> BACKWARD_OF = ThreadLocal.withInitial(ArrayDeque::new);
    private static final Scope NONE = () -> { };
    private static final Scope POP_MODULE = () -> MODULES.get().pop();
    private static final Scope POP_BACKWARD = () -> {
        BACKWARD_OF.get().pop();
        MODULES.get().pop();
    };
    /** Stands for "no module" on the stacks, which take no nulls. */
    private static final String NO_NAME = "";

    private Profiling() {
    }

    /** A scope whose close throws nothing. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    public static boolean enabled() {
        return on;
    }

    /** Routes every op through {@code wrap(backend)} until {@link #uninstall()}; one profiler at a time. */
    public static synchronized void install(UnaryOperator<Backend> wrap) {
        if (on) {
            throw new IllegalStateException("a profiler is already installed; uninstall it first");
        }
        wrapper = wrap;
        WRAPPED.clear();
        on = true;
    }

    public static synchronized void uninstall() {
        on = false;
        wrapper = null;
        WRAPPED.clear();
    }

    static synchronized Backend wrapped(Backend b) {
        if (!on) {
            return b; // uninstalled between the caller's check and here
        }
        return WRAPPED.computeIfAbsent(b.device(), d -> wrapper.apply(b));
    }

    /** Marks the ops until close as run by the module of this full LDM name (a no-op while profiling is off). */
    public static Scope module(String name) {
        if (!on) {
            return NONE;
        }
        MODULES.get().push(name == null ? NO_NAME : name);
        return POP_MODULE;
    }

    /** The innermost module running on this thread, or null outside every named module. */
    public static String currentModule() {
        String m = MODULES.get().peek();
        return m == null || m.isEmpty() ? null : m;
    }

    /** The recorded op whose backward is running on this thread (e.g. "conv2d"), or null in a forward. */
    public static String currentBackward() {
        String op = BACKWARD_OF.get().peek();
        return op == null || op.isEmpty() ? null : op;
    }

    /** The ops until close are the backward of op, recorded while module ran (a forward: op null). */
    static Scope backwardOf(String op, String module) {
        if (!on) {
            return NONE;
        }
        MODULES.get().push(module == null ? NO_NAME : module);
        BACKWARD_OF.get().push(op == null ? NO_NAME : op);
        return POP_BACKWARD;
    }
}
