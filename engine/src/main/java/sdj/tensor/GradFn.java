package sdj.tensor;

/**
 * One recorded operation on the autograd tape: the inputs it read and how to turn the gradient of
 * its output into gradients of those inputs (each in the input's own shape, or null when not needed).
 */
public final class GradFn {
    /** Maps the output gradient to one gradient per input. */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    final String name;
    final Tensor[] inputs;
    final Backward backward;
    /** For a checkpoint: rebuilds the subgraph from {@link #inputs} to an output that stands in for this one. */
    final java.util.function.Supplier<Tensor> recompute;
    /** The module that recorded this op, while a profiler runs ({@link Profiling}); else null. */
    final String module = Profiling.enabled() ? Profiling.currentModule() : null;

    GradFn(String name, Tensor[] inputs, Backward backward) {
        this.name = name;
        this.inputs = inputs;
        this.backward = backward;
        this.recompute = null;
    }

    /** A node whose backward is a sweep through the subgraph {@code recompute} records again. */
    GradFn(String name, Tensor[] inputs, java.util.function.Supplier<Tensor> recompute) {
        this.name = name;
        this.inputs = inputs;
        this.backward = null;
        this.recompute = recompute;
    }

    public String name() {
        return name;
    }
}
