package sdj.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Collections;

/** The dynamic tape: recording of ops, the noGrad scope and reverse-mode backward. */
public final class Autograd {
    private static final ThreadLocal<int[]> NO_GRAD_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private Autograd() {
    }

    /** A scope in which nothing is recorded: {@code try (var g = Autograd.noGrad()) { ... }}. */
    public static AutoCloseableScope noGrad() {
        int[] depth = NO_GRAD_DEPTH.get();
        depth[0]++;
        return () -> depth[0]--;
    }

    /** A try-with-resources scope whose close throws nothing. */
    public interface AutoCloseableScope extends AutoCloseable {
        @Override
        void close();
    }

    public static boolean isGradEnabled() {
        return NO_GRAD_DEPTH.get()[0] == 0;
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
        if (!isGradEnabled()) {
            return false;
        }
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /** Reverse-mode sweep from {@code root}, seeded with {@code seed} (ones for a scalar loss). */
    static void backward(Tensor root, Tensor seed) {
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, seed);
        try (var scope = noGrad()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = grads.remove(t);
                if (g == null) {
                    continue;
                }
                GradFn fn = t.gradFn();
                if (fn == null) {
                    t.accumulateGrad(g);
                    continue;
                }
                Tensor[] inputGrads = fn.backward.apply(g);
                for (int k = 0; k < fn.inputs.length; k++) {
                    Tensor in = fn.inputs[k];
                    Tensor ig = k < inputGrads.length ? inputGrads[k] : null;
                    if (in == null || ig == null || !in.requiresGrad()) {
                        continue;
                    }
                    if (!java.util.Arrays.equals(ig.shape(), in.shape())) {
                        throw new IllegalStateException("backward of " + fn.name + " produced a gradient of shape "
                                + Shape.str(ig.shape()) + " for an input of shape " + Shape.str(in.shape()));
                    }
                    Tensor prev = grads.get(in);
                    grads.put(in, prev == null ? ig : prev.add(ig));
                }
                t.setGradFn(null); // free the graph as we go, like retain_graph=False
            }
        }
    }

    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            GradFn fn = t.gradFn();
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
