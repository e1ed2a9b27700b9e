package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import sdj.io.StateDicts;
import sdj.nn.LoraAdapter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.optim.MixedPrecision;

/**
 * Opens a LoRA run: loads the base checkpoint, builds the model with the config's adapters (their lora_down
 * initialisation seeded by the run's seed, drawn here when none is given so the checkpoints keep it) and hands
 * it to the {@link Trainer} with a {@link LoraMethod}. A resumed run's adapters come from its checkpoint.
 */
public final class LoraTraining {
    private LoraTraining() {
    }

    public static Trainer open(LoraConfig lora) throws IOException {
        return open(lora, ClassImages.Listener.NONE);
    }

    /** As {@link #open(LoraConfig)}, telling {@code classImages} of each class image generated. */
    public static Trainer open(LoraConfig lora, ClassImages.Listener classImages) throws IOException {
        return open(lora, Device.CPU, classImages);
    }

    /**
     * As {@link #open(LoraConfig)} with the model on {@code device} (fp32, or the mixedPrecision dtype, which the cpu
     * refuses before the weights are read). The model is placed before the adapters are made, so they are created
     * on the device from the same seeded host values as on the cpu; under mixed precision they train through fp32
     * masters ({@link sdj.train.optim.MasterWeightStep}).
     */
    public static Trainer open(LoraConfig lora, Device device, ClassImages.Listener classImages) throws IOException {
        lora.validated();
        TrainConfig config = lora.train();
        MixedPrecision precision = MixedPrecision.parse(config.mixedPrecision());
        Trainer.requireDevice(precision, device);
        if (config.seed() == null && config.resumeFromCheckpoint() == null) {
            config = config.with(Map.of("seed", StepRandom.freshSeed()));
        }
        LoraConfig run = lora.withTrain(config);
        checkResumedRank(run);
        Path checkpoint = Path.of(config.pretrainedModelNameOrPath());
        Map<String, Tensor> stateDict = StateDicts.load(checkpoint);
        ModelConfigs configs = ModelConfigFiles.forCheckpoint(config.modelConfig(), checkpoint, ModelConfigs.SD_V1);
        // a resumed run without a seed takes the checkpoint's; its adapters are restored, so 0 only seeds a placeholder
        long adapterSeed = config.seed() != null ? config.seed() : 0L;
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict, configs, checkpoint.toString(),
                device, precision.dtype(), run.rules(adapterSeed));
        return new Trainer(LoraMethod.factory(run, classImages), config, model,
                ClipTokenizer.load(Path.of(config.tokenizerName())), stateDict);
    }

    /** One sentence when the checkpoint to resume from holds adapters of another rank than the run asks for. */
    private static void checkResumedRank(LoraConfig lora) throws IOException {
        TrainConfig c = lora.train();
        if (c.resumeFromCheckpoint() == null) {
            return;
        }
        Path folder = CheckpointFolders.resolve(Path.of(c.outputDir()), c.resumeFromCheckpoint());
        if (folder == null) {
            return; // "latest" of none: a fresh run
        }
        for (Map.Entry<String, Tensor> e : TrainingCheckpoint.load(folder).weights().entrySet()) {
            if (e.getKey().endsWith("." + LoraAdapter.DOWN) && e.getValue().size(0) != lora.rank()) {
                throw new IllegalArgumentException("Checkpoint " + folder + " holds rank-" + e.getValue().size(0)
                        + " adapters but this run asks for rank " + lora.rank() + "; resume with rank "
                        + e.getValue().size(0) + " (and the alpha and targets of the run that wrote it).");
            }
        }
    }
}
