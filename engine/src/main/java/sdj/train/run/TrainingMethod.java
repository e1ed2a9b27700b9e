package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import sdj.random.TorchGenerator;
import sdj.sd.pipeline.StableDiffusion;
import sdj.tensor.Tensor;
import sdj.train.data.DataPosition;
import sdj.train.optim.ParamGroup;

/**
 * What one fine-tuning method decides — which weights train, what the data is and how a micro-batch's loss is
 * formed, what the result file holds — while {@link Trainer} runs the loop every method shares (accumulation,
 * clipping, schedule, optimizer, checkpoints, resume, validation, logs). DreamBooth is {@link DreamBoothMethod}.
 */
public interface TrainingMethod {

    /** Opens a method for one run: sets what trains on the pipeline's model, opens and checks the data. */
    @FunctionalInterface
    interface Factory {
        /**
         * @param config   the run's settings, the seed filled in
         * @param pipeline the model and tokenizer being trained (class and validation images are drawn with it)
         * @param base     the state dict the model was built from (null: the model's own parameters)
         */
        TrainingMethod open(TrainConfig config, StableDiffusion pipeline, Map<String, Tensor> base) throws IOException;
    }

    /**
     * The optimizer's parameter groups at the run's starting learning rate, in a fixed order (checkpoints and
     * the optimizer state follow it); every parameter in them is marked trainable and nothing else is.
     */
    List<ParamGroup> parameterGroups();

    /** Micro-batches in one pass over the data. */
    int batchesPerEpoch();

    /** The loss of the micro-batch at {@code position} (0-dim, recorded for backward), drawing from {@code g}. */
    Tensor loss(DataPosition position, TorchGenerator g);

    /** The position after the micro-batch at {@code position}. */
    DataPosition next(DataPosition position);

    /** Writes the run's result (a model, an adapter or a delta) to {@code file}. */
    void save(Path file) throws IOException;

    /**
     * Writes the result with {@code trained} (by parameter name, e.g. EMA weights) in place of the current trained
     * weights; only a method whose result is a whole model supports it.
     */
    default void save(Path file, Map<String, Tensor> trained) throws IOException {
        throw new IllegalStateException("useEma is for DreamBooth and text-to-image; this run trains "
                + getClass().getSimpleName() + ", so leave useEma out.");
    }

    /** Writes the trained model as a diffusers folder; only a method whose result is a whole model has that form. */
    default void saveDiffusers(Path folder) throws IOException {
        throw new IllegalStateException("only DreamBooth saves a diffusers folder; this run trains "
                + getClass().getSimpleName() + ", whose result is its own file.");
    }

    /** Batches the VAE encoded so far (tests of latent caching); methods without a cache count every batch. */
    default int vaeEncodes() {
        return 0;
    }
}
