package sdj.cli;

import java.io.PrintStream;
import java.util.Locale;
import sdj.bench.ProcessClock;
import sdj.sd.pipeline.StableDiffusion;

/**
 * A one-line sampling progress display on stderr: bar, step count, step rate and ETA. Before the first batch's
 * bar it says when sampling starts, counted from the launch (what a user waits before the first step: start-up,
 * load, prompt) and from the bar's creation (the prompt's encoding and, for img2img, the init image's).
 */
final class ProgressBar implements StableDiffusion.Listener {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final long created;
    private boolean started;
    private long batchStart;
    private String label = "";
    private boolean dirty;

    ProgressBar(PrintStream out) {
        this.out = out;
        this.created = System.nanoTime();
        this.batchStart = created;
    }

    @Override
    public void onBatch(int batch, int batches) {
        if (dirty) {
            out.println();
        }
        label = batches > 1 ? "batch " + batch + "/" + batches + " " : "";
        batchStart = System.nanoTime();
        if (!started) {
            out.printf(Locale.ROOT, "sampling starts %.2f s after launch (%.2f s after the load)%n",
                    ProcessClock.secondsSinceStart(), (batchStart - created) / 1e9);
            started = true;
        }
    }

    @Override
    public void onStep(int step, int total) {
        double elapsed = (System.nanoTime() - batchStart) / 1e9;
        double rate = step / Math.max(elapsed, 1e-9);
        double eta = (total - step) / Math.max(rate, 1e-9);
        int filled = (int) Math.round(WIDTH * (double) step / total);
        String rateText = rate >= 1 ? String.format(Locale.ROOT, "%.2f it/s", rate)
                : String.format(Locale.ROOT, "%.2f s/it", 1 / rate);
        out.printf(Locale.ROOT, "\r%s[%s%s] %d/%d %s ETA %s ", label, "#".repeat(filled), " ".repeat(WIDTH - filled), step,
                total, rateText, clock(eta));
        out.flush();
        dirty = true;
    }

    void finish() {
        if (dirty) {
            out.println();
        }
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
