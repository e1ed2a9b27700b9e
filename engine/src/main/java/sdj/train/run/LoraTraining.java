package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import sdj.io.StateDicts;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

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
        lora.validated();
        TrainConfig config = lora.train();
        if (config.seed() == null && config.resumeFromCheckpoint() == null) {
            config = config.with(Map.of("seed", StepRandom.freshSeed()));
        }
        LoraConfig run = lora.withTrain(config);
        Path checkpoint = Path.of(config.pretrainedModelNameOrPath());
        Map<String, Tensor> stateDict = StateDicts.load(checkpoint);
        ModelConfigs configs = config.modelConfig() == null ? ModelConfigs.SD_V1
                : ModelConfigFiles.read(Path.of(config.modelConfig()));
        // a resumed run without a seed takes the checkpoint's; its adapters are restored, so 0 only seeds a placeholder
        long adapterSeed = config.seed() != null ? config.seed() : 0L;
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict, configs, checkpoint.toString(),
                Device.CPU, DType.F32, run.rules(adapterSeed));
        return new Trainer(LoraMethod.factory(run, classImages), config, model,
                ClipTokenizer.load(Path.of(config.tokenizerName())), stateDict);
    }
}
