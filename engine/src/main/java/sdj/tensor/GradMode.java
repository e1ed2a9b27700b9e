package sdj.tensor;

/**
 * The calling thread's grad mode, changed only through scopes that restore the previous mode on close,
 * so {@code noGrad} and {@code enableGrad} nest in either order (as torch.no_grad / torch.enable_grad).
 * A third state, probing, serves {@link Checkpoint}: nothing is recorded, but the scope notes whether an
 * op saw an input that requires grad, i.e. whether the same code with grad on would have built a graph.
 */
final class GradMode {
    private static final ThreadLocal<GradMode> CURRENT = ThreadLocal.withInitial(GradMode::new);

    private boolean enabled = true;
    private boolean probing;
    private boolean probeHit;

    private GradMode() {
    }

    static GradMode current() {
        return CURRENT.get();
    }

    boolean enabled() {
        return enabled;
    }

    /** Whether an op on these inputs records now; in a probe it records nothing but notes a grad input. */
    boolean willRecord(Tensor[] inputs) {
        if (!enabled && !probing) {
            return false;
        }
        boolean any = false;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                any = true;
                break;
            }
        }
        if (probing) {
            probeHit |= any;
            return false;
        }
        return any;
    }

    Autograd.AutoCloseableScope set(boolean enable) {
        return enter(enable, false);
    }

    /** A scope that records nothing; {@link Probe#hit()} says whether grad mode would have recorded an op. */
    Probe probe() {
        return new Probe(enter(false, true));
    }

    private Autograd.AutoCloseableScope enter(boolean enable, boolean probe) {
        boolean wasEnabled = enabled;
        boolean wasProbing = probing;
        boolean wasHit = probeHit;
        enabled = enable;
        probing = probe;
        if (probe) {
            probeHit = false;
        }
        return () -> {
            enabled = wasEnabled;
            probing = wasProbing;
            // a probe nested in a probe reports to the outer one too; any other scope leaves the outer note as it was
            probeHit = probe && wasProbing ? wasHit || probeHit : wasHit;
        };
    }

    /** An open probe scope. */
    final class Probe implements Autograd.AutoCloseableScope {
        private final Autograd.AutoCloseableScope scope;

        private Probe(Autograd.AutoCloseableScope scope) {
            this.scope = scope;
        }

        boolean hit() {
            return probeHit;
        }

        @Override
        public void close() {
            scope.close();
        }
    }
}
