package sdj.tensor;

/**
 * The calling thread's grad mode, changed only through scopes that restore the previous mode on close,
 * so {@code noGrad} and {@code enableGrad} nest in either order (as torch.no_grad / torch.enable_grad).
 * A third state, probing, serves {@link Checkpoint}: nothing is recorded, but the probe notes whether an
 * op saw an input that requires grad (whether the same code with grad on would have built a graph) and
 * whether such an input was computed outside the probed function without being one of its inputs.
 */
final class GradMode {
    private static final ThreadLocal<GradMode> CURRENT = ThreadLocal.withInitial(GradMode::new);

    private boolean enabled = true;
    private Probe probe; // non-null while probing
    private int recordingScopes; // open enableGrad and probe scopes: the activation arena pauses inside them

    private GradMode() {
    }

    static GradMode current() {
        return CURRENT.get();
    }

    boolean enabled() {
        return enabled;
    }

    /** Whether nothing can be recorded now: grad off and no probe (the activation arena may recycle). */
    boolean recordsNothing() {
        return !enabled && probe == null;
    }

    /**
     * How many enableGrad or probe scopes are open on this thread. An arena scope opened under no-grad
     * compares it to tell whether an inner enableGrad may have saved its buffers on a tape.
     */
    int recordingScopes() {
        return recordingScopes;
    }

    /** Whether an op on these inputs records now; in a probe it records nothing but takes notes. */
    boolean willRecord(Tensor[] inputs) {
        if (!enabled && probe == null) {
            return false;
        }
        boolean any = false;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                any = true;
                if (probe != null) {
                    probe.saw(in);
                }
            }
        }
        return any && probe == null;
    }

    Autograd.AutoCloseableScope set(boolean enable) {
        return enter(enable, null);
    }

    /** A scope that records nothing and watches what a function reads; {@code inputs} are what it was given. */
    Probe probe(Tensor[] inputs) {
        Probe p = new Probe(inputs);
        p.scope = enter(false, p);
        return p;
    }

    private Autograd.AutoCloseableScope enter(boolean enable, Probe newProbe) {
        boolean wasEnabled = enabled;
        Probe wasProbe = probe;
        int wasRecordingScopes = recordingScopes;
        enabled = enable;
        probe = newProbe;
        if (enable || newProbe != null) {
            recordingScopes++;
        }
        return () -> {
            enabled = wasEnabled;
            probe = wasProbe;
            recordingScopes = wasRecordingScopes;
        };
    }

    /** An open probe scope and its notes. */
    static final class Probe implements Autograd.AutoCloseableScope {
        private final Tensor[] inputs;
        private Autograd.AutoCloseableScope scope;
        private boolean hit;
        private Tensor captured;

        private Probe(Tensor[] inputs) {
            this.inputs = inputs;
        }

        /**
         * Nothing records inside the probe, so a tensor that has a grad function was computed outside;
         * unless it is one of the inputs, the function reached it some other way (captured it).
         */
        private void saw(Tensor in) {
            hit = true;
            if (captured == null && in.gradFn() != null && !isInput(in)) {
                captured = in;
            }
        }

        private boolean isInput(Tensor t) {
            for (Tensor in : inputs) {
                if (in == t) {
                    return true;
                }
            }
            return false;
        }

        /** Whether grad mode would have recorded an op. */
        boolean hit() {
            return hit;
        }

        /** A computed tensor requiring grad that was read but not passed as an input, or null. */
        Tensor captured() {
            return captured;
        }

        @Override
        public void close() {
            scope.close();
        }
    }
}
