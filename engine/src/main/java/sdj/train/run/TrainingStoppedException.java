package sdj.train.run;

/** A run that cannot go on (a NaN or infinite loss or gradient norm); the message says at which step and why. */
public final class TrainingStoppedException extends RuntimeException {
    private final long step;

    TrainingStoppedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The optimizer step (1-based) that failed; the weights are those after step − 1. */
    public long step() {
        return step;
    }
}
