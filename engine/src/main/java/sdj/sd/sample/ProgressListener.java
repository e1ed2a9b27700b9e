package sdj.sd.sample;

/** Told after every sampling step; {@code step} runs 1..total. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (step, total) -> { };

    void onStep(int step, int total);
}
