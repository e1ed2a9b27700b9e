package sdj.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import sdj.train.run.ClassImages;
import sdj.train.run.Trainer;

/**
 * The steps every {@code sdj train} method runs the same way: checking the config and the base checkpoint, opening
 * the trainer (class images reported on stderr), training with a progress bar. {@code inFlagNames} turns the
 * config's field names in a message into the method's flag names.
 */
final class TrainSteps {
    private TrainSteps() {
    }

    /** How a method opens its trainer, given where class images it draws first are reported. */
    interface Opening {
        Trainer open(ClassImages.Listener classImages) throws IOException;
    }

    /**
     * The config's problems (one sentence each) or a missing base checkpoint as a {@link UserError}; {@code checkpoint}
     * is looked at only when the config has no problems (a missing one is among them).
     */
    static void check(List<String> problems, UnaryOperator<String> inFlagNames, String checkpoint) {
        if (!problems.isEmpty()) {
            throw new UserError(String.join(" ", problems.stream().map(inFlagNames).toList()));
        }
        Path base = Path.of(checkpoint);
        if (!Files.isRegularFile(base)) {
            throw new UserError("the base checkpoint " + base + " does not exist; pass it with --ckpt FILE.");
        }
    }

    /** Opens the trainer; a setup error (IllegalArgumentException) becomes a {@link UserError} in flag names. */
    static Trainer open(Opening opening, UnaryOperator<String> inFlagNames) throws IOException {
        try {
            return opening.open((file, done, total) ->
                    System.err.printf(Locale.ROOT, "sdj train: class image %d of %d written: %s%n", done, total, file));
        } catch (IllegalArgumentException e) {
            throw new UserError(inFlagNames.apply(e.getMessage()));
        }
    }

    /** Trains to the last step with a progress bar on stderr, finished even when training stops with an error. */
    static void train(Trainer trainer) throws IOException {
        TrainProgressBar bar = new TrainProgressBar(System.err);
        trainer.onProgress(bar);
        try {
            trainer.train();
        } finally {
            bar.finish();
        }
    }
}
