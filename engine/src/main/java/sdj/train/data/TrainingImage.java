package sdj.train.data;

import java.nio.file.Path;

/** One image file of the training data and the caption it trains with. */
public record TrainingImage(Path file, String caption) {
}
