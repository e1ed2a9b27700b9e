package sdj.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.io.StateDicts;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.run.LossPlot;
import sdj.train.run.TrainConfig;
import sdj.train.run.Trainer;
import sdj.train.vae.ReconstructionGrid;
import sdj.train.vae.VaeLoss;
import sdj.train.vae.VaeMethod;
import sdj.train.vae.VaeSettings;

/**
 * {@code sdj train vae --model-config M --train-data-dir D --output-dir OUT}: trains the KL autoencoder from random
 * weights (or from {@code --ckpt}'s VAE) with {@link VaeMethod}, then writes {@code OUT/vae.safetensors} (the
 * first_stage_model.* weights, fp32, metadata "scale_factor"), prints the measured scale factor, and with
 * {@code --validation-images N} writes {@code OUT/reconstructions.png}. The trainer's flags ({@link TrainFlags})
 * apply, with the defaults learning rate {@value #DEFAULT_LEARNING_RATE} and resolution {@value #DEFAULT_RESOLUTION}
 * unless --config is given; the data folder needs no captions.
 */
final class VaeRun {
    static final String RESULT = "vae.safetensors";
    static final String GRID = "reconstructions.png";
    /**
     * From scratch on models/sdj-shapes.json, 2e-4 at batch 8 took L1 only from 0.75 to 0.42 in 300 steps (colours
     * still wrong); 1e-3 trained stably in VaeMethodTest. LDM's 4.5e-6 × batch is for its large VAE.
     */
    static final double DEFAULT_LEARNING_RATE = 1e-3;
    /** The embedded model's image size (models/sdj-shapes.json); diffusers' default 512 is SD v1's. */
    static final int DEFAULT_RESOLUTION = 64;
    /** The data needs no caption; the data reader takes this one for images without one. */
    private static final String NO_CAPTION = "an image";
    private static final String RANDOM = "(random weights)";

    private VaeRun() {
    }

    static void addOptions(Options o) {
        o.addOption(Option.builder().longOpt("kl-weight").hasArg().argName("X").desc("vae: weight of the KL term"
                + " (default " + VaeSettings.LDM_KL_WEIGHT + ", LDM's)").build());
        o.addOption(Option.builder().longOpt("reconstruction-loss").hasArg().argName("l1|mse").desc("vae: pixel loss"
                + " (default l1, LDM's)").build());
        o.addOption(Option.builder().longOpt("validation-images").hasArg().argName("N").desc("vae: write OUTPUT_DIR/"
                + GRID + ", N training images over their reconstructions").build());
    }

    static int run(CommandLine cmd) throws IOException {
        VaeSettings settings = settings(cmd);
        int gridImages = gridImages(cmd);
        TrainConfig config = config(cmd);
        if (config.modelConfig() == null) {
            throw new UserError("sdj train vae needs --model-config FILE, the model sizes (e.g. models/sdj-shapes.json).");
        }
        ModelConfigs configs = ModelConfigFiles.read(Path.of(config.modelConfig()));
        TrainSteps.check(config.validate(), DreamBoothRun::inFlagNames, config.pretrainedModelNameOrPath().equals(RANDOM)
                ? config.modelConfig() : config.pretrainedModelNameOrPath());
        Device device = DreamBoothRun.device(cmd, config);
        StableDiffusionModel model;
        Map<String, Tensor> base = null;
        if (config.pretrainedModelNameOrPath().equals(RANDOM)) {
            model = StableDiffusionModel.random(configs, config.seed() != null ? config.seed() : 0, device,
                    sdj.tensor.DType.F32);
        } else {
            base = StateDicts.load(Path.of(config.pretrainedModelNameOrPath()));
            model = StableDiffusionModel.fromStateDict(base, configs, config.pretrainedModelNameOrPath(), device,
                    sdj.tensor.DType.F32);
        }
        ClipTokenizer tokenizer = ClipTokenizer.load(Path.of(config.tokenizerName()));
        Map<String, Tensor> b = base;
        VaeMethod[] method = new VaeMethod[1];
        Trainer trainer = TrainSteps.open(classImages -> new Trainer((c, pipeline, unused) ->
                method[0] = VaeMethod.open(c, pipeline, settings), config, model, tokenizer, b),
                DreamBoothRun::inFlagNames);
        Path out = Path.of(config.outputDir());
        System.err.printf(Locale.ROOT, "sdj train: vae, %d of %d steps to go, seed %d, lr %s, kl weight %s, %s loss,"
                + " from %s, into %s%n", trainer.totalSteps() - trainer.globalStep(), trainer.totalSteps(),
                trainer.config().seed(), config.effectiveLearningRate(), settings.klWeight(),
                settings.reconstruction().name().toLowerCase(Locale.ROOT), config.pretrainedModelNameOrPath(), out);
        TrainSteps.train(trainer);
        Path result = out.resolve(RESULT);
        trainer.saveModel(result);
        System.out.println(method[0].scale().line());
        System.out.println("wrote " + result + " (the VAE, first_stage_model.* in fp32, metadata scale_factor)");
        if (gridImages > 0) {
            Path grid = out.resolve(GRID);
            ReconstructionGrid.write(grid, model.vae(), device, method[0].dataConfig(), gridImages);
            System.out.println("wrote " + grid + " (training images over their reconstructions)");
        }
        System.out.println("wrote " + LossPlot.write(out) + " (the loss curve of " + out.resolve("log.jsonl") + ")");
        return 0;
    }

    /** Defaults (the VAE's learning rate), the --config file and the flags; random weights unless --ckpt. */
    static TrainConfig config(CommandLine cmd) throws IOException {
        TrainConfig config = DreamBoothRun.config(cmd);
        Map<String, Object> fill = new HashMap<>();
        if (!cmd.hasOption("learning-rate") && !cmd.hasOption("config")) {
            fill.put("learningRate", DEFAULT_LEARNING_RATE); // diffusers' 5e-6 is for fine-tuning, not from scratch
        }
        if (!cmd.hasOption("resolution") && !cmd.hasOption("config")) {
            fill.put("resolution", DEFAULT_RESOLUTION);
        }
        if (cmd.hasOption("train-data-dir")) {
            if (cmd.hasOption("instance-data-dir")) {
                throw new UserError("--train-data-dir and --instance-data-dir are the same setting; give only one of them.");
            }
            fill.put("instanceDataDir", cmd.getOptionValue("train-data-dir"));
            fill.put("trainDataDir", null); // the VAE reads the folder as plain images, not captioned ones
        } else if (config.instanceDataDir() == null) {
            throw new UserError("sdj train vae needs --train-data-dir DIR, a folder of training images.");
        }
        if (config.instancePrompt() == null) {
            fill.put("instancePrompt", NO_CAPTION);
        }
        if (config.pretrainedModelNameOrPath() == null) {
            fill.put("pretrainedModelNameOrPath", RANDOM);
        }
        if (config.seed() == null && config.resumeFromCheckpoint() == null) {
            fill.put("seed", ThreadLocalRandom.current().nextLong(1L << 31)); // the random weights need it now
        }
        return config.with(fill);
    }

    static VaeSettings settings(CommandLine cmd) {
        double kl = VaeSettings.LDM_KL_WEIGHT;
        if (cmd.hasOption("kl-weight")) {
            try {
                kl = Double.parseDouble(cmd.getOptionValue("kl-weight").trim());
            } catch (NumberFormatException e) {
                throw new UserError("--kl-weight needs a number, got '" + cmd.getOptionValue("kl-weight") + "'.");
            }
        }
        String loss = cmd.getOptionValue("reconstruction-loss", "l1").trim().toLowerCase(Locale.ROOT);
        if (!loss.equals("l1") && !loss.equals("mse")) {
            throw new UserError("--reconstruction-loss must be l1 or mse, got '" + cmd.getOptionValue("reconstruction-loss")
                    + "'.");
        }
        try {
            return new VaeSettings(kl, loss.equals("l1") ? VaeLoss.Reconstruction.L1 : VaeLoss.Reconstruction.MSE);
        } catch (IllegalArgumentException e) {
            throw new UserError(DreamBoothRun.inFlagNames(e.getMessage()).replace("klWeight", "--kl-weight"));
        }
    }

    static int gridImages(CommandLine cmd) {
        if (!cmd.hasOption("validation-images")) {
            return 0;
        }
        try {
            int n = Integer.parseInt(cmd.getOptionValue("validation-images").trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the sentence below
        }
        throw new UserError("--validation-images needs a whole number of 0 or more, got '"
                + cmd.getOptionValue("validation-images") + "'.");
    }
}
