package sdj.train.run;

/**
 * What a progress bar shows after an optimizer step.
 *
 * @param step           optimizer steps done
 * @param totalSteps     the run's optimizer steps
 * @param loss           this step's loss (mean over its micro-batches)
 * @param smoothedLoss   an exponential moving average of the loss (weight 0.1 on the newest step)
 * @param lr             the learning rate this step used
 * @param secondsPerStep wall time of this step
 */
public record Progress(long step, long totalSteps, double loss, double smoothedLoss, double lr, double secondsPerStep) {
    /** Estimated seconds to the end at this step's pace. */
    public double etaSeconds() {
        return (totalSteps - step) * secondsPerStep;
    }
}
