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
    /** The LoRA settings a --config file may hold (snake_case, camelCase, kohya's names) → their flag. */
    static final Map<String, String> FILE_KEYS = Map.ofEntries(Map.entry("rank", "rank"),
            Map.entry("network_dim", "rank"), Map.entry("alpha", "alpha"), Map.entry("network_alpha", "alpha"),
            Map.entry("lora_dropout", "lora-dropout"), Map.entry("loraDropout", "lora-dropout"),
            Map.entry("network_dropout", "lora-dropout"), Map.entry("lora_targets", "lora-targets"),
            Map.entry("loraTargets", "lora-targets"), Map.entry("lora_init", "lora-init"), Map.entry("loraInit", "lora-init"),
            Map.entry("unet_lr", "unet-lr"), Map.entry("unetLr", "unet-lr"), Map.entry("text_encoder_lr", "text-encoder-lr"),
            Map.entry("textEncoderLr", "text-encoder-lr"), Map.entry("output_name", "output-name"),
            Map.entry("outputName", "output-name"), Map.entry("save_format", "save-format"),
            Map.entry("saveFormat", "save-format"));

    private LoraTrainFlags() {
    }

    static void addTo(Options o) {
        o.addOption(flag("rank", "N", "LoRA: adapter rank (kohya's network_dim; default 4)"));
        o.addOption(flag("alpha", "X", "LoRA: adapter alpha, scale alpha/rank (default: the rank, scale 1;"
                + " kohya's own default is 1)"));
        o.addOption(flag("lora-dropout", "P", "LoRA: dropout on lora_down's output while training, as kohya's"
                + " network_dropout (default 0)"));
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
    static LoraConfig config(CommandLine cmd, TrainConfig train, Map<String, String> fromFile) {
        Values v = new Values(cmd, fromFile);
        Double unetLr = v.number("unet-lr");
        boolean lrGiven = cmd.hasOption("learning-rate") || train.learningRate() != TrainConfig.defaults().learningRate();
        if (!lrGiven) {
            train = train.with(Map.of("learningRate", unetLr != null ? unetLr : DEFAULT_LR));
        }
        Double alpha = v.number("alpha");
        Double dropout = v.number("lora-dropout");
        LoraConfig d = LoraConfig.defaults(train);
        LoraTargets targets;
        try {
            targets = v.has("lora-targets") ? LoraTargets.byName(v.get("lora-targets")) : d.targets();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage().replace("LoRA targets", "--lora-targets"));
        }
        return new LoraConfig(train, v.has("rank") ? v.whole("rank") : d.rank(),
                alpha == null ? null : alpha.floatValue(), dropout == null ? d.dropout() : dropout.floatValue(), targets,
                unetLr, v.number("text-encoder-lr"), v.init(d.init()),
                (v.has("save-format") ? v.get("save-format") : d.saveFormat()).toLowerCase(Locale.ROOT));
    }

    /** The file name of the kohya output, from --output-name or the config file. */
    static String outputName(CommandLine cmd, Map<String, String> fromFile) {
        Values v = new Values(cmd, fromFile);
        return v.has("output-name") ? v.get("output-name") : DEFAULT_OUTPUT_NAME;
    }

    /** Removes the LoRA settings from a config file's entries and returns them by flag name, as strings. */
    static Map<String, String> takeFileSettings(Map<String, Object> settings) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        FILE_KEYS.forEach((key, flag) -> {
            if (settings.containsKey(key)) {
                Object value = settings.remove(key);
                if (value != null) {
                    out.put(flag, String.valueOf(value));
                }
            }
        });
        return out;
    }

    /** LoraConfig's sentences name fields ("rank 0 is …"); on the command line they are flags. */
    static String inFlagNames(String message) {
        String out = DreamBoothRun.inFlagNames(message);
        for (Map.Entry<String, String> e : FLAG_OF.entrySet()) {
            out = out.replaceAll("(?<=^|\\. )" + e.getKey() + "\\b", e.getValue());
        }
        return out;
    }

    /** A LoRA setting by flag name: the flag when given, else the config file's value. */
    private record Values(CommandLine cmd, Map<String, String> fromFile) {
        boolean has(String flag) {
            return cmd.hasOption(flag) || fromFile.containsKey(flag);
        }

        String get(String flag) {
            return cmd.hasOption(flag) ? cmd.getOptionValue(flag) : fromFile.get(flag);
        }

        AdapterRule.DownInit init(AdapterRule.DownInit fallback) {
            if (!has("lora-init")) {
                return fallback;
            }
            return switch (get("lora-init").toLowerCase(Locale.ROOT)) {
                case "kaiming", "kaiming_uniform", "kaiming-uniform" -> AdapterRule.DownInit.KAIMING_UNIFORM;
                case "gaussian" -> AdapterRule.DownInit.GAUSSIAN;
                default -> throw new UserError("--lora-init must be kaiming or gaussian, got '" + get("lora-init") + "'.");
            };
        }

        Double number(String flag) {
            if (!has(flag)) {
                return null;
            }
            try {
                return Double.parseDouble(get(flag).trim());
            } catch (NumberFormatException e) {
                throw new UserError("--" + flag + " needs a number, got '" + get(flag) + "'.");
            }
        }

        int whole(String flag) {
            try {
                return Integer.parseInt(get(flag).trim());
            } catch (NumberFormatException e) {
                throw new UserError("--" + flag + " needs a whole number, got '" + get(flag) + "'.");
            }
        }
    }
}
