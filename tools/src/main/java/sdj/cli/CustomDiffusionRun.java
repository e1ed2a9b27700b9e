package sdj.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Device;
import sdj.train.ReferenceCheck;
import sdj.train.cd.CustomDiffusionConfig;
import sdj.train.cd.CustomDiffusionReference;
import sdj.train.cd.CustomDiffusionToolsReference;
import sdj.train.cd.DeltaFiles;
import sdj.train.cd.FreezeModel;
import sdj.train.data.CustomDiffusionData.Concept;
import sdj.train.run.CustomDiffusionMethod;
import sdj.train.run.LossPlot;
import sdj.train.run.TrainConfig;
import sdj.train.run.TrainConfigFile;
import sdj.train.run.Trainer;

/**
 * {@code sdj train custom-diffusion}: trains with adobe's defaults (lr 1e-5 scaled by the batch, AdamW wd 0.01, no
 * clipping, 250 steps, batch 2) and writes the delta ({@code --save-format compvis|diffusers|both}); with
 * {@code --reference DIR --check}, replays the reference's cd.* and cd2.* updates and its merge.* and svd.* tool
 * checks.
 */
final class CustomDiffusionRun {
    static final String DEFAULT_FORMAT = "compvis";

    private CustomDiffusionRun() {
    }

    /** The flags only Custom Diffusion has (the shared TrainConfig flags come from {@link TrainFlags}). */
    static void addOptions(Options o) {
        o.addOption(Option.builder().longOpt("modifier-token").hasArg().argName("T1+T2").desc("custom-diffusion:"
                + " the new tokens (default <new1>)").build());
        o.addOption(Option.builder().longOpt("initializer-token").hasArg().argName("T1+T2").desc("custom-diffusion:"
                + " vocabulary tokens the new rows start from, in order (default ktn+pll+ucd)").build());
        o.addOption(Option.builder().longOpt("freeze-model").hasArg().argName("crossattn-kv|crossattn")
                .desc("custom-diffusion: train attn2 k/v (default) or all of attn2").build());
        o.addOption(Option.builder().longOpt("concepts-list").hasArg().argName("FILE").desc("custom-diffusion: JSON"
                + " list of {instance_prompt, class_prompt, instance_data_dir, class_data_dir} for joint training").build());
        o.addOption(Option.builder().longOpt("no-aug").desc("custom-diffusion: no scale augmentation of instance"
                + " images").build());
        o.addOption(Option.builder().longOpt("no-scale-lr").desc("custom-diffusion: do not multiply the lr by"
                + " batch × accumulation (adobe's --scale_lr is on by default)").build());
    }

    static int train(CommandLine cmd) throws IOException {
        CustomDiffusionConfig cd = config(cmd);
        TrainConfig config = cd.train();
        TrainSteps.check(config.validate(), DreamBoothRun::inFlagNames, config.pretrainedModelNameOrPath());
        Device device = DreamBoothRun.device(cmd, config);
        Trainer trainer = TrainSteps.open(classImages -> CustomDiffusionMethod.trainer(cd, device, classImages),
                DreamBoothRun::inFlagNames);
        Path out = Path.of(config.outputDir());
        System.err.printf(Locale.ROOT, "sdj train: custom-diffusion, %d of %d steps to go, seed %d, lr %g%s, into %s%n",
                trainer.totalSteps() - trainer.globalStep(), trainer.totalSteps(), trainer.config().seed(),
                trainer.config().effectiveLearningRate(), DreamBoothRun.onDevice(device, config), out);
        TrainSteps.train(trainer);
        trainer.saveModel(out.resolve(DeltaFiles.COMPVIS_FILE));
        if (!cd.saveFormat().equals("diffusers")) {
            System.out.println("wrote " + out.resolve(DeltaFiles.COMPVIS_FILE) + " (the delta, adobe's layout)");
        }
        if (!cd.saveFormat().equals("compvis")) {
            System.out.println("wrote " + out.resolve(DeltaFiles.DIFFUSERS_FILE) + " and the token files (diffusers)");
        }
        System.out.println("wrote " + LossPlot.write(out) + " (the loss curve of " + out.resolve("log.jsonl") + ")");
        return 0;
    }

    /** adobe's defaults, then the --config file, then the flags. */
    static CustomDiffusionConfig config(CommandLine cmd) throws IOException {
        TrainConfig config = CustomDiffusionConfig.defaults();
        if (cmd.hasOption("config")) {
            config = TrainConfigFile.read(Path.of(cmd.getOptionValue("config")), config);
        }
        Map<String, Object> flags = new HashMap<>(TrainFlags.values(cmd));
        if (cmd.hasOption("no-scale-lr")) {
            flags.put("scaleLr", false);
        }
        List<Concept> concepts = null;
        if (cmd.hasOption("concepts-list")) {
            concepts = CustomDiffusionConfig.readConceptsList(Path.of(cmd.getOptionValue("concepts-list")));
            Concept first = concepts.get(0); // the shared config names one concept; the list holds them all
            flags.putIfAbsent("instanceDataDir", first.instanceDir().toString());
            flags.putIfAbsent("instancePrompt", first.instancePrompt());
            Concept withClass = concepts.stream().filter(c -> c.classDir() != null).findFirst().orElse(null);
            if (withClass != null) {
                flags.putIfAbsent("withPriorPreservation", true);
                flags.putIfAbsent("classDataDir", withClass.classDir().toString());
                flags.putIfAbsent("classPrompt", withClass.classPrompt() == null ? "" : withClass.classPrompt());
            }
        }
        config = DreamBoothRun.withOptimizer(config.with(flags), cmd); // --optimizer adamw8bit = --use-8bit-adam
        if (config.tokenizerName() == null) {
            config = config.with(Map.of("tokenizerName", ClipVocabLocator.locate(null).toString()));
        }
        if (concepts == null) {
            if (config.instanceDataDir() == null || config.instancePrompt() == null) {
                throw new UserError("custom-diffusion needs --instance-data-dir and --instance-prompt (e.g. \"photo of a"
                        + " <new1> cat\"), or --concepts-list FILE.");
            }
            concepts = List.of(CustomDiffusionConfig.singleConcept(config));
        }
        List<String> tokens = CustomDiffusionConfig.splitPlus(cmd.getOptionValue("modifier-token", "<new1>"));
        List<String> init = CustomDiffusionConfig.splitPlus(cmd.getOptionValue("initializer-token", "ktn+pll+ucd"));
        String format = cmd.getOptionValue("save-format", DEFAULT_FORMAT).toLowerCase(Locale.ROOT);
        try {
            return new CustomDiffusionConfig(config, concepts, tokens, init,
                    FreezeModel.parse(cmd.getOptionValue("freeze-model", FreezeModel.CROSSATTN_KV.flag())),
                    !cmd.hasOption("no-aug"), format);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage() + ".");
        }
    }

    /**
     * The cd.* and cd2.* training checks, then the merge.* and svd.* checks of the delta tools on the same reference
     * (each printed as it is made); exit 0 only when every check passes.
     */
    static int check(CommandLine cmd, Path ckpt, Path reference) throws IOException {
        ClipTokenizer tokenizer = ClipTokenizer.load(vocabulary(cmd, reference)); // before any line is printed
        ReferenceCheck check = CustomDiffusionReference.check(ckpt, reference, c -> System.out.println(c.line()));
        CustomDiffusionToolsReference.check(check, ckpt, reference, tokenizer);
        System.out.println(check.summary());
        return check.allPass() && !check.checks().isEmpty() ? 0 : 1;
    }

    /** --vocab or the usual places, else the shared folder the reference lives in (DIR/../../data/clip). */
    private static Path vocabulary(CommandLine cmd, Path reference) {
        String vocab = cmd.getOptionValue("tokenizer-name", cmd.getOptionValue("vocab"));
        try {
            return ClipVocabLocator.locate(vocab);
        } catch (UserError e) {
            Path shared = reference.toAbsolutePath().getParent().resolve("../../data/clip")
                    .resolve(ClipVocabLocator.FILE).normalize();
            if (vocab == null && Files.isRegularFile(shared)) {
                return shared;
            }
            throw e;
        }
    }
}
