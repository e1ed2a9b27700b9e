package sdj.train.data;

import java.nio.file.Path;
import java.util.List;
import sdj.tensor.Tensor;

/**
 * One training batch in diffusers' DreamBooth layout: the instance samples first, then (with prior
 * preservation) the class samples, one per instance sample, as {@code collate_fn} stacks them.
 *
 * @param pixels    {@code [n, 3, R, R]} float32 in [−1, 1]
 * @param prompts   the caption of each of the n samples, in the same order
 * @param files     the image file of each sample
 * @param instances how many leading samples are instance images (n − instances are class images)
 * @param position  where this batch stands in the data order
 */
public record Batch(Tensor pixels, List<String> prompts, List<Path> files, int instances,
        DataPosition position) {
}
