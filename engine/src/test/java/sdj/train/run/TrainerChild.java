package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A training run in a JVM of its own, for {@link TrainerTest}'s kill -9 test: the one argument is a TrainConfig JSON
 * file ({@link TrainConfigJson}); the run trains to its last step and writes its checkpoints as any run does.
 */
final class TrainerChild {
    private TrainerChild() {
    }

    public static void main(String[] args) throws IOException {
        Trainer.open(TrainConfigJson.read(Path.of(args[0]))).train();
    }
}
