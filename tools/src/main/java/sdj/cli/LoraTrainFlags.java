package sdj.cli;

import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.nn.AdapterRule;
import sdj.train.lora.LoraTargets;
import sdj.train.run.LoraConfig;
import sdj.train.run.TrainConfig;

/**
 * The flags {@code sdj train lora} adds to the shared training flags ({@link TrainFlags}): {@code --rank},
 * {@code --alpha}, {@code --lora-dropout}, {@code --lora-targets kohya|attn}, {@code --lora-init},
 * {@code --unet-lr}, {@code --text-encoder-lr}, {@code --output-name}; {@code --save-format} is kohya or diffusers.
 */
final class LoraTrainFlags {
    /** LoraConfig's field names in its sentences → the flags that set them. */
    private static final Map<String, String> FLAG_OF = Map.of("rank", "--rank", "alpha", "--alpha", "loraDropout",
            "--lora-dropout", "unetLr", "--unet-lr", "textEncoderLr", "--text-encoder-lr", "saveFormat", "--save-format");
    /** LoRA's usual learning rate when neither --learning-rate nor --unet-lr is given (diffusers' README uses 1e-4). */
    static final double DEFAULT_LR = 1e-4;
    static final String DEFAULT_OUTPUT_NAME = "lora";

    private LoraTrainFlags() {
    }

    static void addTo(Options o) {
        o.addOption(flag("rank", "N", "LoRA: adapter rank (kohya's network_dim; default 4)"));
        o.addOption(flag("alpha", "X", "LoRA: adapter alpha, scale alpha/rank (default: the rank, scale 1;"
                + " kohya's own default is 1)"));
        o.addOption(flag("lora-dropout", "P", "LoRA: dropout on the adapters' input while training (default 0)"));
        o.addOption(flag("lora-targets", "kohya|attn", "LoRA: kohya = every Linear and 1x1 conv of the transformer"
                + " blocks (+ CLIP attention and MLP with --train-text-encoder; the default); attn = attention q/k/v/out"
                + " only (diffusers/PEFT)"));
        o.addOption(flag("lora-init", "kaiming|gaussian", "LoRA: lora_down init, kaiming-uniform a=sqrt(5) (kohya,"
                + " PEFT default) or N(0, 1/rank^2) (diffusers' DreamBooth-LoRA); lora_up starts at zero"));
        o.addOption(flag("unet-lr", "X", "LoRA: learning rate of the UNet adapters (default --learning-rate, or "
                + DEFAULT_LR + " when neither is given)"));
        o.addOption(flag("text-encoder-lr", "X", "LoRA: learning rate of the text-encoder adapters (default"
                + " --learning-rate)"));
        o.addOption(flag("output-name", "NAME", "LoRA: the kohya file is OUTPUT_DIR/NAME.safetensors (default "
                + DEFAULT_OUTPUT_NAME + ")"));
    }

    private static Option flag(String name, String arg, String desc) {
        return Option.builder().longOpt(name).hasArg().argName(arg).desc(desc).build();
    }

    /**
     * The LoRA config of the flags on top of {@code train} (defaults → --config → the shared flags). Without
     * --learning-rate the run's learning rate is --unet-lr, else {@link #DEFAULT_LR}.
     */
    static LoraConfig config(CommandLine cmd, TrainConfig train) {
        Double unetLr = number(cmd, "unet-lr");
        boolean lrGiven = cmd.hasOption("learning-rate") || train.learningRate() != TrainConfig.defaults().learningRate();
        if (!lrGiven) {
            train = train.with(Map.of("learningRate", unetLr != null ? unetLr : DEFAULT_LR));
        }
        Double alpha = number(cmd, "alpha");
        Double dropout = number(cmd, "lora-dropout");
        LoraConfig d = LoraConfig.defaults(train);
        LoraTargets targets;
        try {
            targets = cmd.hasOption("lora-targets") ? LoraTargets.byName(cmd.getOptionValue("lora-targets")) : d.targets();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage().replace("LoRA targets", "--lora-targets"));
        }
        return new LoraConfig(train, cmd.hasOption("rank") ? whole(cmd, "rank") : d.rank(),
                alpha == null ? null : alpha.floatValue(), dropout == null ? d.dropout() : dropout.floatValue(), targets,
                unetLr, number(cmd, "text-encoder-lr"), init(cmd, d.init()),
                cmd.getOptionValue("save-format", d.saveFormat()).toLowerCase(Locale.ROOT));
    }

    /** LoraConfig's sentences name fields ("rank 0 is …"); on the command line they are flags. */
    static String inFlagNames(String message) {
        String out = DreamBoothRun.inFlagNames(message);
        for (Map.Entry<String, String> e : FLAG_OF.entrySet()) {
            out = out.replaceAll("(?<=^|\\. )" + e.getKey() + "\\b", e.getValue());
        }
        return out;
    }

    private static AdapterRule.DownInit init(CommandLine cmd, AdapterRule.DownInit fallback) {
        if (!cmd.hasOption("lora-init")) {
            return fallback;
        }
        return switch (cmd.getOptionValue("lora-init").toLowerCase(Locale.ROOT)) {
            case "kaiming", "kaiming_uniform", "kaiming-uniform" -> AdapterRule.DownInit.KAIMING_UNIFORM;
            case "gaussian" -> AdapterRule.DownInit.GAUSSIAN;
            default -> throw new UserError("--lora-init must be kaiming or gaussian, got '" + cmd.getOptionValue("lora-init")
                    + "'.");
        };
    }

    private static Double number(CommandLine cmd, String flag) {
        if (!cmd.hasOption(flag)) {
            return null;
        }
        try {
            return Double.parseDouble(cmd.getOptionValue(flag).trim());
        } catch (NumberFormatException e) {
            throw new UserError("--" + flag + " needs a number, got '" + cmd.getOptionValue(flag) + "'.");
        }
    }

    private static int whole(CommandLine cmd, String flag) {
        try {
            return Integer.parseInt(cmd.getOptionValue(flag).trim());
        } catch (NumberFormatException e) {
            throw new UserError("--" + flag + " needs a whole number, got '" + cmd.getOptionValue(flag) + "'.");
        }
    }
}
