package sdj.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Collections;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The dynamic tape: recording of ops, the noGrad / enableGrad scopes, activation checkpointing and
 * reverse-mode backward.
 */
public final class Autograd {
    private Autograd() {
    }

    /** A scope in which nothing is recorded: {@code try (var g = Autograd.noGrad()) { ... }}. */
    public static AutoCloseableScope noGrad() {
        return GradMode.current().set(false);
    }

    /**
     * A scope in which ops record again, also inside {@link #noGrad()} or a backward pass (like
     * torch.enable_grad); closing it restores whatever mode was on before.
     */
    public static AutoCloseableScope enableGrad() {
        return GradMode.current().set(true);
    }

    /**
     * Activation checkpointing: {@code fn(inputs)} without keeping its intermediate tensors. The forward
     * runs fn with nothing recorded and keeps only the inputs; one "checkpoint" node stands for the whole
     * subgraph. When backward reaches it, fn runs again with grad on and the sweep goes on through the
     * recomputed subgraph, so the inputs and the parameters fn reads (leaves it need not be given) get
     * exactly the gradients they would get without checkpointing. Outside grad mode this is just
     * {@code fn.apply(inputs)}.
     *
     * <p>fn runs twice, so it must compute the same thing both times: no randomness drawn from a shared
     * generator (dropout must use a generator fn re-creates from a fixed seed), no state it changes. Every
     * computed tensor fn reads that requires grad must be one of the inputs. See {@link Checkpoint} for
     * how this relates to torch.utils.checkpoint.
     */
    public static Tensor checkpoint(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        return Checkpoint.run(fn, inputs);
    }

    /** A try-with-resources scope whose close throws nothing. */
    public interface AutoCloseableScope extends AutoCloseable {
        @Override
        void close();
    }

    public static boolean isGradEnabled() {
        return GradMode.current().enabled();
    }

    /**
     * Attaches a backward function to {@code out} when grad mode is on and any input requires grad.
     * Ops call this once after computing their result; it returns {@code out} for chaining.
     */
    public static Tensor record(Tensor out, String name, Tensor[] inputs, GradFn.Backward backward) {
        if (willRecord(inputs)) {
            out.setGradFn(new GradFn(name, inputs, backward));
        }
        return out;
    }

    /** True when an op on these inputs will be recorded, so it must keep what its backward needs. */
    public static boolean willRecord(Tensor... inputs) {
        return GradMode.current().willRecord(inputs);
    }

    /**
     * How many recorded ops of each name {@link Tensor#backward()} from {@code root} would run, sorted by
     * name (diagnostics, and tests of how much of a graph is kept alive).
     */
    public static Map<String, Integer> recordedOps(Tensor root) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Tensor t : topologicalOrder(root)) {
            if (t.gradFn() != null) {
                counts.merge(t.gradFn().name, 1, Integer::sum);
            }
        }
        return counts;
    }

    /**
     * Reverse-mode sweep from {@code root}, seeded with {@code seed} (ones for a scalar loss). Reentrant:
     * a backward function may itself run a whole backward (in an {@link #enableGrad()} scope), which has
     * its own state and accumulates into leaves as usual.
     */
    static void backward(Tensor root, Tensor seed) {
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, seed);
        try (var scope = noGrad()) {
            sweep(root, grads, Collections.emptySet());
        }
    }

    /**
     * Backpropagates the gradients in {@code grads} through everything reachable from {@code root}, except
     * the tensors of {@code boundary}: those are not entered, and their summed gradients stay in
     * {@code grads} for the caller's sweep (a checkpoint's inputs, while its subgraph is swept).
     */
    private static void sweep(Tensor root, Map<Tensor, Tensor> grads, Set<Tensor> boundary) {
        List<Tensor> order = topologicalOrder(root, boundary);
        for (int i = order.size() - 1; i >= 0; i--) {
            Tensor t = order.get(i);
            if (boundary.contains(t)) {
                continue;
            }
            Tensor g = grads.remove(t);
            if (g == null) {
                continue;
            }
            GradFn fn = t.gradFn();
            if (fn == null) {
                t.accumulateGrad(g);
                continue;
            }
            if (fn.recompute != null) {
                // The recomputed subgraph joins this sweep: its inputs receive their gradients use by use,
                // in the order they would have without checkpointing, so the sums round the same way.
                Tensor sub;
                try (var profiled = Profiling.backwardOf(null, fn.module)) { // a forward again, in its module
                    sub = fn.recompute.get();
                }
                if (sub.requiresGrad()) {
                    addGrad(grads, sub, g, fn);
                    Set<Tensor> inputs = Collections.newSetFromMap(new IdentityHashMap<>());
                    Collections.addAll(inputs, fn.inputs);
                    sweep(sub, grads, inputs);
                }
            } else {
                try (var profiled = Profiling.backwardOf(fn.name, fn.module)) {
                    Tensor[] inputGrads = fn.backward.apply(g);
                    for (int k = 0; k < fn.inputs.length; k++) {
                        Tensor in = fn.inputs[k];
                        Tensor ig = k < inputGrads.length ? inputGrads[k] : null;
                        if (in != null && ig != null && in.requiresGrad()) {
                            addGrad(grads, in, ig, fn);
                        }
                    }
                }
            }
            t.setGradFn(null); // free the graph as we go, like retain_graph=False
        }
    }

    private static void addGrad(Map<Tensor, Tensor> grads, Tensor in, Tensor ig, GradFn producer) {
        if (!java.util.Arrays.equals(ig.shape(), in.shape())) {
            throw new IllegalStateException("backward of " + producer.name + " produced a gradient of shape "
                    + Shape.str(ig.shape()) + " for an input of shape " + Shape.str(in.shape()));
        }
        Tensor prev = grads.get(in);
        grads.put(in, prev == null ? ig : prev.add(ig));
    }

    private static List<Tensor> topologicalOrder(Tensor root) {
        return topologicalOrder(root, Collections.emptySet());
    }

    /** Inputs before the tensors computed from them; tensors in {@code boundary} are listed but not entered. */
    private static List<Tensor> topologicalOrder(Tensor root, Set<Tensor> boundary) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            GradFn fn = boundary.contains(t) ? null : t.gradFn();
            if (fn != null && next < fn.inputs.length) {
                frame[1] = next + 1;
                Tensor in = fn.inputs[next];
                if (in != null && in.requiresGrad() && visited.add(in)) {
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
