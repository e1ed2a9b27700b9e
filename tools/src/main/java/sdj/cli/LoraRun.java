package sdj.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import sdj.tensor.Device;
import sdj.train.lora.DiffusersLoraFile;
import sdj.train.run.LoraConfig;
import sdj.train.run.LoraTraining;
import sdj.train.run.LossPlot;
import sdj.train.run.TrainConfig;
import sdj.train.run.TrainConfigFile;
import sdj.train.run.Trainer;

/**
 * {@code sdj train lora --ckpt BASE --instance-data-dir D --instance-prompt "photo of sks dog" … --output-dir OUT}:
 * the shared training flags and config file as {@code sdj train dreambooth} ({@link DreamBoothRun}), plus the LoRA
 * flags ({@link LoraTrainFlags}), which the config file may also hold (rank, alpha, unet_lr, …); trains adapters with the {@link Trainer} and writes {@code OUT/NAME.safetensors}
 * (kohya format, the default) or {@code OUT/pytorch_lora_weights.safetensors} ({@code --save-format diffusers}),
 * and {@code OUT/loss.png}.
 */
final class LoraRun {
    private LoraRun() {
    }

    static int run(CommandLine cmd) throws IOException {
        Map<String, String> fromFile = Map.of();
        TrainConfig train = TrainConfig.defaults();
        if (cmd.hasOption("config")) { // a config file may hold LoRA settings too (rank, unet_lr, …)
            Path file = Path.of(cmd.getOptionValue("config"));
            try {
                fromFile = LoraTrainFlags.takeFileSettings(TrainConfigFile.settings(file));
                train = TrainConfigFile.read(file, train, LoraTrainFlags.FILE_KEYS.keySet());
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
        }
        LoraConfig lora = LoraTrainFlags.config(cmd, DreamBoothRun.withFlags(cmd, train), fromFile);
        TrainSteps.check(lora.validate(), LoraTrainFlags::inFlagNames, lora.train().pretrainedModelNameOrPath());
        Device device = DreamBoothRun.device(cmd, lora.train());
        Trainer trainer = TrainSteps.open(classImages -> LoraTraining.open(lora, device, classImages),
                LoraTrainFlags::inFlagNames);
        Path out = Path.of(lora.train().outputDir());
        System.err.printf(Locale.ROOT, "sdj train: lora rank %d alpha %s on %d modules, %d of %d steps to go, seed %d%s,"
                + " into %s%n", lora.rank(), lora.effectiveAlpha(), trainer.model().store().adapters().size(),
                trainer.totalSteps() - trainer.globalStep(), trainer.totalSteps(), trainer.config().seed(),
                DreamBoothRun.onDevice(device, lora.train()), out);
        TrainSteps.train(trainer);
        boolean diffusers = lora.saveFormat().equals("diffusers");
        Path file = out.resolve(diffusers ? DiffusersLoraFile.FILE_NAME
                : LoraTrainFlags.outputName(cmd, fromFile) + ".safetensors");
        trainer.saveModel(file);
        System.out.println("wrote " + file + " (the LoRA adapters, " + (diffusers ? "diffusers" : "kohya") + " format)");
        System.out.println("wrote " + LossPlot.write(out) + " (the loss curve of " + out.resolve("log.jsonl") + ")");
        return 0;
    }
}
