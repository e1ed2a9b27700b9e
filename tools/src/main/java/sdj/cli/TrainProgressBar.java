package sdj.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Consumer;
import sdj.train.run.Progress;

/**
 * The training progress line on stderr, redrawn after each optimizer step like the sampling bar
 * ({@link ProgressBar}): bar, step/total, smoothed loss, learning rate, seconds per step (mean of the steps of
 * this process, so the first step's warm-up fades) and ETA.
 */
final class TrainProgressBar implements Consumer<Progress> {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private double seconds;
    private int steps;
    private boolean dirty;

    TrainProgressBar(PrintStream out) {
        this.out = out;
    }

    @Override
    public void accept(Progress p) {
        seconds += p.secondsPerStep();
        steps++;
        out.print(line(p, seconds / steps));
        out.flush();
        dirty = true;
    }

    /** The text drawn for {@code p} at {@code secondsPerStep}, starting with a carriage return. */
    static String line(Progress p, double secondsPerStep) {
        int filled = (int) Math.round(WIDTH * (double) p.step() / Math.max(1, p.totalSteps()));
        return String.format(Locale.ROOT, "\r[%s%s] %d/%d loss %.4f lr %.2e %.2f s/it ETA %s ", "#".repeat(filled),
                " ".repeat(WIDTH - filled), p.step(), p.totalSteps(), p.smoothedLoss(), p.lr(), secondsPerStep,
                clock((p.totalSteps() - p.step()) * secondsPerStep));
    }

    /** Ends the progress line, if one was drawn. */
    void finish() {
        if (dirty) {
            out.println();
            dirty = false;
        }
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
