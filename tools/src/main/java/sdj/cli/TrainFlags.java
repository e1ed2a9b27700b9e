package sdj.cli;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.train.run.TrainConfig;
import sdj.train.run.TrainConfigJson;

/**
 * Binds every {@link TrainConfig} field to a flag: diffusers' {@code train_dreambooth.py} argument name in
 * kebab-case ({@code --max_train_steps} is {@code --max-train-steps}). Booleans are switches that turn the
 * setting on, as diffusers' {@code store_true} flags do; every other flag takes a value, parsed to the field's
 * type with a one-sentence error. Two short aliases match the other commands: {@code --ckpt} for
 * {@code --pretrained-model-name-or-path} and {@code --vocab} for {@code --tokenizer-name}.
 */
final class TrainFlags {
    static final Map<String, String> ALIASES = Map.of("pretrainedModelNameOrPath", "ckpt", "tokenizerName", "vocab");
    private static final RecordComponent[] FIELDS = TrainConfig.class.getRecordComponents();
    /** What each flag sets, for --help; the default is added from {@link TrainConfig#defaults()}. */
    private static final Map<String, String> HELP = Map.ofEntries(
            Map.entry("pretrainedModelNameOrPath", "base checkpoint (.ckpt or .safetensors, CompVis layout); alias --ckpt"),
            Map.entry("modelConfig", "model config JSON with the model sizes (txt2img's --config), e.g. models/sd-tiny.json"),
            Map.entry("tokenizerName", "CLIP BPE vocabulary; alias --vocab (default: found as txt2img finds it)"),
            Map.entry("instanceDataDir", "folder of the subject's training images"),
            Map.entry("instancePrompt", "caption of the instance images, e.g. \"a photo of sks dog\""),
            Map.entry("classDataDir", "folder of class images (prior preservation)"),
            Map.entry("classPrompt", "caption of the class images, e.g. \"a photo of dog\""),
            Map.entry("withPriorPreservation", "add the class images' loss (prior preservation)"),
            Map.entry("priorLossWeight", "weight of the prior (class) loss"),
            Map.entry("numClassImages", "class images wanted in --class-data-dir"),
            Map.entry("outputDir", "folder for checkpoints, log.jsonl, loss.png and the model"),
            Map.entry("seed", "random seed (default: drawn once and kept in the checkpoints)"),
            Map.entry("resolution", "training image size, a multiple of 64"),
            Map.entry("centerCrop", "crop the center instead of a random square"),
            Map.entry("randomFlip", "mirror images left-right at random"),
            Map.entry("trainTextEncoder", "fine-tune the CLIP text encoder too"),
            Map.entry("trainBatchSize", "instance images per batch"),
            Map.entry("numTrainEpochs", "epochs to train when --max-train-steps is not given"),
            Map.entry("maxTrainSteps", "optimizer steps to train"),
            Map.entry("checkpointingSteps", "write a resumable checkpoint-N folder every this many steps"),
            Map.entry("checkpointsTotalLimit", "keep only the newest this many checkpoints"),
            Map.entry("resumeFromCheckpoint", "a checkpoint-N folder, or 'latest' in --output-dir"),
            Map.entry("gradientAccumulationSteps", "batches per optimizer step"),
            Map.entry("gradientCheckpointing", "recompute activations in the backward pass to save memory"),
            Map.entry("learningRate", "AdamW learning rate"),
            Map.entry("scaleLr", "multiply the learning rate by accumulation steps × batch size"),
            Map.entry("lrScheduler", "constant, constant_with_warmup, linear, cosine, cosine_with_restarts or polynomial"),
            Map.entry("lrWarmupSteps", "steps of linear warm-up"),
            Map.entry("lrNumCycles", "restarts of cosine_with_restarts"),
            Map.entry("lrPower", "power of the polynomial schedule"),
            Map.entry("use8bitAdam", "bitsandbytes' block-wise 8-bit AdamW moments, CPU only; also --optimizer adamw8bit"),
            Map.entry("adamBeta1", "AdamW β1"),
            Map.entry("adamBeta2", "AdamW β2"),
            Map.entry("adamWeightDecay", "AdamW weight decay"),
            Map.entry("adamEpsilon", "AdamW ε"),
            Map.entry("maxGradNorm", "clip the global gradient norm to this"),
            Map.entry("snrGamma", "min-SNR weighting γ (default: plain MSE)"),
            Map.entry("noiseOffset", "offset-noise strength"),
            Map.entry("mixedPrecision", "no (fp32), or with --device cuda fp16 or bf16: half weights and activations,"
                    + " fp32 master weights, fp16 loss scaling"),
            Map.entry("cacheLatents", "encode each image once (needs --center-crop, no --random-flip)"),
            Map.entry("skipBadImages", "skip images that cannot be decoded, with a warning"),
            Map.entry("trainDataDir", "text-to-image: folder of images captioned by its metadata.jsonl (\"text\");"
                    + " vae: folder of images (captions not needed)"),
            Map.entry("vae", "file whose first_stage_model.* replace the VAE (e.g. sdj train vae's); without --ckpt the"
                    + " UNet and text encoder start from seeded random weights; its scale_factor metadata wins"),
            Map.entry("captionDropoutRate", "replace a caption by \"\" with this probability (classifier-free"
                    + " guidance)"),
            Map.entry("useEma", "keep an exponential moving average of the trained weights; the model saved is it"),
            Map.entry("emaDecay", "the EMA's largest decay, min(this, (1+s)/(10+s)) at its step s+1"));

    private TrainFlags() {
    }

    /** diffusers' argument name of a field in kebab-case: maxTrainSteps → max-train-steps, use8bitAdam → use-8bit-adam. */
    static String flagName(String field) {
        if (field.equals("use8bitAdam")) {
            return "use-8bit-adam"; // diffusers' --use_8bit_adam: the one name whose digits start a word
        }
        StringBuilder out = new StringBuilder();
        for (char c : field.toCharArray()) {
            if (Character.isUpperCase(c)) {
                out.append('-');
            }
            out.append(Character.toLowerCase(c));
        }
        return out.toString();
    }

    /** Adds one option per field, and the aliases. */
    static void addTo(Options options) {
        Map<String, Object> defaults = TrainConfigJson.toMap(TrainConfig.defaults());
        for (RecordComponent f : FIELDS) {
            String name = f.getName();
            Object def = defaults.get(name);
            String desc = HELP.getOrDefault(name, name) + (def == null || def.equals(false) ? "" : " (default " + def + ")");
            options.addOption(option(flagName(name), f.getType(), desc));
            String alias = ALIASES.get(name);
            if (alias != null && !options.hasLongOption(alias)) {
                options.addOption(option(alias, f.getType(), "same as --" + flagName(name)));
            }
        }
    }

    private static Option option(String longName, Class<?> type, String desc) {
        Option.Builder b = Option.builder().longOpt(longName).desc(desc);
        if (!isBoolean(type)) {
            b.hasArg().argName(type == String.class ? "VALUE" : isWhole(type) ? "N" : "X");
        }
        return b.build();
    }

    /** The fields the command line sets, by camelCase name, as the field's type. */
    static Map<String, Object> values(CommandLine cmd) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RecordComponent f : FIELDS) {
            String name = f.getName();
            String flag = flagName(name);
            String alias = ALIASES.get(name);
            if (alias != null && cmd.hasOption(alias)) {
                if (cmd.hasOption(flag)) {
                    throw new UserError("--" + alias + " and --" + flag + " are the same setting; give only one of them.");
                }
                flag = alias;
            }
            if (cmd.hasOption(flag)) {
                out.put(name, isBoolean(f.getType()) ? Boolean.TRUE : parse(flag, cmd.getOptionValue(flag), f.getType()));
            }
        }
        return out;
    }

    private static Object parse(String flag, String v, Class<?> type) {
        String t = v.trim();
        try {
            if (type == int.class || type == Integer.class) {
                return Integer.parseInt(t);
            }
            if (type == long.class || type == Long.class) {
                return Long.parseLong(t);
            }
            if (type == double.class || type == Double.class) {
                return Double.parseDouble(t);
            }
        } catch (NumberFormatException e) {
            throw new UserError("--" + flag + " needs " + (isWhole(type) ? "a whole number" : "a number") + ", got '"
                    + v + "'.");
        }
        return v;
    }

    private static boolean isBoolean(Class<?> type) {
        return type == boolean.class || type == Boolean.class;
    }

    private static boolean isWhole(Class<?> type) {
        return type == int.class || type == Integer.class || type == long.class || type == Long.class;
    }
}
