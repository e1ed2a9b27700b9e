package sdj.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.cli.CommandLine;
import sdj.backend.cuda.Cuda;
import sdj.sd.ModelConfigFiles;
import sdj.tensor.Device;
import sdj.train.run.LossPlot;
import sdj.train.run.ScratchModel;
import sdj.train.run.TrainConfig;
import sdj.train.run.TrainConfigFile;
import sdj.train.run.Trainer;

/**
 * {@code sdj train dreambooth --ckpt BASE --instance-data-dir D --instance-prompt P … --output-dir OUT}: builds a
 * {@link TrainConfig} from the defaults, then {@code --config FILE} (JSON or YAML), then the flags (the later
 * wins), runs the {@link Trainer} with a progress line on stderr, and writes {@code OUT/model.safetensors} (or
 * {@code .ckpt}) and {@code OUT/loss.png}, with {@code --save-diffusers [DIR]} also a diffusers folder (default
 * {@code OUT/diffusers}). {@code --optimizer adamw8bit} is {@code --use-8bit-adam}. The training config is
 * {@code --config} as issue #15 names it, so the model sizes that txt2img takes as {@code --config} are
 * {@code --model-config} here (the TrainConfig field's name); a model config given as {@code --config} is recognised and pointed there.
 * {@code sdj train text-to-image --train-data-dir D …} runs the same path as diffusers' {@code train_text_to_image.py}:
 * the captions of D's metadata.jsonl, {@code --caption-dropout-rate}, and without {@code --ckpt} (but with
 * {@code --vae FILE}, {@code --model-config} and {@code --seed}) a UNet and text encoder trained from scratch.
 */
final class DreamBoothRun {
    static final String MODEL = "model";
    static final List<String> SAVE_FORMATS = List.of("safetensors", "ckpt");
    static final List<String> OPTIMIZERS = List.of("adamw", "adamw8bit");
    /** The diffusers folder's default name inside the output folder. */
    static final String DIFFUSERS = "diffusers";
    private static final Pattern FIELD_AT_START = Pattern.compile("(?<=^|\\. )([a-z][A-Za-z0-9]*)\\b");

    private DreamBoothRun() {
    }

    /** Defaults, then the --config file, then the flags; the CLIP vocabulary found as txt2img finds it. */
    static TrainConfig config(CommandLine cmd) throws IOException {
        TrainConfig config = TrainConfig.defaults();
        if (cmd.hasOption("config")) {
            config = readConfigFile(Path.of(cmd.getOptionValue("config")));
        }
        return withFlags(cmd, config);
    }

    /** {@code config} (defaults and a config file) with the flags over it; the CLIP vocabulary found as txt2img finds it. */
    static TrainConfig withFlags(CommandLine cmd, TrainConfig config) throws IOException {
        config = config.with(TrainFlags.values(cmd));
        config = withOptimizer(config, cmd);
        if (config.tokenizerName() == null) {
            config = config.with(Map.of("tokenizerName", ClipVocabLocator.locate(null).toString()));
        }
        return config;
    }

    /**
     * {@code --optimizer adamw|adamw8bit} (issue #15's name) sets what {@code --use-8bit-adam} (diffusers') sets;
     * both given must agree.
     */
    static TrainConfig withOptimizer(TrainConfig config, CommandLine cmd) {
        if (!cmd.hasOption("optimizer")) {
            return config;
        }
        String name = cmd.getOptionValue("optimizer").trim().toLowerCase(Locale.ROOT);
        if (!OPTIMIZERS.contains(name)) {
            throw new UserError("--optimizer must be adamw or adamw8bit, got '" + cmd.getOptionValue("optimizer") + "'.");
        }
        if (name.equals("adamw") && cmd.hasOption("use-8bit-adam")) {
            throw new UserError("--optimizer adamw and --use-8bit-adam contradict each other; give one of them.");
        }
        return config.with(Map.of("use8bitAdam", name.equals("adamw8bit")));
    }

    /** Where --save-diffusers writes: its value, or OUT/diffusers; null without the flag. */
    static Path diffusersFolder(CommandLine cmd, Path out) {
        if (!cmd.hasOption("save-diffusers")) {
            return null;
        }
        String value = cmd.getOptionValue("save-diffusers");
        return value == null ? out.resolve(DIFFUSERS) : Path.of(value);
    }

    /** "safetensors" (the default) or "ckpt". */
    static String saveFormat(CommandLine cmd) {
        String format = cmd.getOptionValue("save-format", "safetensors").toLowerCase(Locale.ROOT);
        if (!SAVE_FORMATS.contains(format)) {
            throw new UserError("--save-format must be safetensors or ckpt, got '" + cmd.getOptionValue("save-format")
                    + "'.");
        }
        return format;
    }

    /** {@code sdj train text-to-image}: {@link #run} on a --train-data-dir of captioned images. */
    static int runTextToImage(CommandLine cmd) throws IOException {
        if (!cmd.hasOption(TrainFlags.flagName("trainDataDir")) && !cmd.hasOption("config")) {
            throw new UserError("text-to-image needs --train-data-dir DIR, a folder of images with a metadata.jsonl of"
                    + " {\"file_name\": ..., \"text\": ...} lines (sdj data shapes writes one).");
        }
        return run(cmd);
    }

    /** Trains and saves; setup errors are one sentence each (UserError), a stopped run's message is the exception's. */
    static int run(CommandLine cmd) throws IOException {
        TrainConfig config = config(cmd);
        String format = saveFormat(cmd);
        TrainSteps.check(config.validate(), DreamBoothRun::inFlagNames,
                config.pretrainedModelNameOrPath() != null ? config.pretrainedModelNameOrPath() : config.vae());
        String method = config.trainDataDir() != null ? "text-to-image" : "dreambooth";
        Device device = device(cmd, config);
        // prior preservation with fewer class images than --num-class-images generates the rest first
        Trainer trainer = TrainSteps.open(classImages -> Trainer.open(config, device, classImages),
                DreamBoothRun::inFlagNames);
        Path out = Path.of(config.outputDir());
        if (config.vae() != null) {
            Float scale = ScratchModel.scaleFactorOf(Path.of(config.vae()));
            System.err.println(scale == null ? "sdj train: the VAE is " + config.vae() + "; latent scale_factor "
                    + trainer.model().configs().scaleFactor() + " from the model config"
                    : "sdj train: the VAE is " + config.vae() + "; latent scale_factor " + scale
                    + " from its metadata, in place of the model config's");
        }
        System.err.printf(Locale.ROOT, "sdj train: %s%s, %d of %d steps to go, seed %d%s, into %s%n", method,
                config.pretrainedModelNameOrPath() == null ? " from scratch" : "", trainer.totalSteps() - trainer.globalStep(), trainer.totalSteps(), trainer.config().seed(),
                onDevice(device, config), out);
        TrainSteps.train(trainer);
        if (trainer.skippedSteps() > 0) {
            System.err.printf(Locale.ROOT, "sdj train: %d optimizer steps were skipped because fp16 gradients overflowed"
                    + " (the loss scale backed off; see \"skipped\" in %s)%n", trainer.skippedSteps(),
                    out.resolve("log.jsonl"));
        }
        Path model = out.resolve(MODEL + "." + format);
        trainer.saveModel(model);
        System.out.println("wrote " + model + " (the trained model, " + format + ", CompVis layout)");
        Path diffusers = diffusersFolder(cmd, out);
        if (diffusers != null) {
            trainer.saveDiffusers(diffusers);
            System.out.println("wrote " + diffusers + " (the trained model as a diffusers folder)");
        }
        System.out.println("wrote " + LossPlot.write(out) + " (the loss curve of " + out.resolve("log.jsonl") + ")");
        return 0;
    }

    /** The start line's words for a run on cuda (nothing on the cpu). */
    static String onDevice(Device device, TrainConfig config) {
        return device == Device.CPU ? "" : ", on cuda (" + Cuda.device() + "), mixed precision " + config.mixedPrecision();
    }

    /** --device cpu|cuda (as the other commands probe it); fp16/bf16 mixed precision needs cuda. */
    static Device device(CommandLine cmd, TrainConfig config) {
        Device device = DeviceFlags.parse(cmd).device();
        if (device == Device.CPU && !"no".equals(config.mixedPrecision())) {
            throw new UserError("--mixed-precision " + config.mixedPrecision() + " needs --device cuda; the cpu computes"
                    + " in fp32, so add --device cuda or leave --mixed-precision out.");
        }
        return device;
    }

    /** A training config file; a model config given here instead of to --model-config is named as such. */
    private static TrainConfig readConfigFile(Path file) throws IOException {
        try {
            return TrainConfigFile.read(file);
        } catch (IllegalArgumentException e) {
            if (isModelConfig(file)) {
                throw new UserError("--config " + file + " is a model config (the model sizes txt2img's --config takes);"
                        + " pass it as --model-config " + file + ", since --config of sdj train is a training config"
                        + " (JSON or YAML).");
            }
            throw new UserError(e.getMessage());
        }
    }

    private static boolean isModelConfig(Path file) {
        try {
            ModelConfigFiles.read(file);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** TrainConfig's sentences name fields ("maxTrainSteps 0 is …"); on the command line they are flags. */
    static String inFlagNames(String message) {
        List<String> fields = new ArrayList<>();
        for (var f : TrainConfig.class.getRecordComponents()) {
            fields.add(f.getName());
        }
        Matcher m = FIELD_AT_START.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            m.appendReplacement(out, Matcher.quoteReplacement(fields.contains(name) ? "--" + TrainFlags.flagName(name)
                    : name));
        }
        m.appendTail(out);
        return out.toString();
    }
}
