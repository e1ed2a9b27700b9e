package sdj.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.io.SafeTensors;
import sdj.train.DreamBoothReference;
import sdj.train.ReferenceCheck;
import sdj.train.lora.LoraReference;

/**
 * `sdj train METHOD`: {@code sdj train dreambooth --ckpt BASE --instance-data-dir D --instance-prompt P …} fine-tunes
 * ({@link DreamBoothRun}; every TrainConfig field is a flag under diffusers' name in kebab-case, {@link TrainFlags},
 * and {@code --config FILE} gives them in JSON or YAML); {@code sdj train custom-diffusion …} trains a Custom Diffusion
 * delta ({@link CustomDiffusionRun}) and {@code sdj train lora …} LoRA adapters with the same flags plus
 * {@link LoraTrainFlags} ({@link LoraRun}). {@code sdj train METHOD --reference DIR --check} replays a training
 * reference's run of that method (sd-tiny-train layout: sections A–C, D or E), both optimizer updates from the base
 * checkpoint, and prints one line per compared tensor,
 * {@code name maxAbsErr maxRelErr PASS|FAIL}, then {@code N/M checks pass}. Bad input is one sentence and exit
 * status 2.
 */
public final class TrainCommand implements Command {
    static final String REFERENCE_FILE = "train-reference.safetensors";
    /** Where the sd-tiny-train README puts the base model when the metadata does not say: next to DIR. */
    static final String DEFAULT_BASE = "sd-tiny/model.ckpt";
    static final List<String> METHODS = List.of("dreambooth", "custom-diffusion", "lora", "text-to-image", "vae");
    static final String AVAILABLE = "available now: 'sdj train dreambooth|custom-diffusion|lora --ckpt BASE"
            + " --instance-data-dir D --instance-prompt P ...' (fine-tunes; see sdj train --help) and 'sdj train"
            + " dreambooth|custom-diffusion|lora --reference DIR --check' (checks the updates against a training"
            + " reference)";

    /** The reference metadata's {@code base_checkpoint}: "sd-tiny/model.ckpt (how it was made), sha256 HEX". */
    private static final Pattern BASE = Pattern.compile("^(\\S+).*?(?:sha256 ([0-9a-f]{64}))?\\s*$");

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "fine-tune or train: dreambooth, custom-diffusion, lora, text-to-image (diffusers' flags in kebab-case),"
                + " vae; METHOD --reference DIR --check (parity)";
    }

    @Override
    public String positional() {
        return "METHOD";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("reference").hasArg()
                .desc("training reference folder (holds " + REFERENCE_FILE + ", sd-tiny-train layout)").build());
        o.addOption(Option.builder().longOpt("check").desc("replay the reference's updates and compare, PASS/FAIL per"
                + " tensor").build());
        o.addOption(Option.builder().longOpt("ckpt").hasArg().desc("base checkpoint, as --pretrained-model-name-or-path"
                + " (with --check, default: the reference's base_checkpoint next to DIR, DIR/../" + DEFAULT_BASE + ")").build());
        o.addOption(Option.builder().longOpt("config").hasArg().argName("FILE").desc("training config, JSON or YAML"
                + " (.yaml/.yml), with TrainConfig's camelCase or diffusers' snake_case names; flags override it. The"
                + " model sizes (txt2img's --config) are --model-config here").build());
        o.addOption(Option.builder().longOpt("save-format").hasArg().argName("FORMAT").desc("dreambooth: safetensors"
                + " or ckpt, the format of OUTPUT_DIR/model.* (default safetensors); custom-diffusion:"
                + " compvis|diffusers|both, the delta's layout (default compvis); lora: kohya (OUTPUT_DIR/NAME"
                + ".safetensors, the default) or diffusers (OUTPUT_DIR/pytorch_lora_weights.safetensors)").build());
        o.addOption(Option.builder().longOpt("save-diffusers").optionalArg(true).hasArg().argName("DIR").desc("also write"
                + " the model as a diffusers folder (default OUTPUT_DIR/" + DreamBoothRun.DIFFUSERS + ")").build());
        o.addOption(Option.builder().longOpt("optimizer").hasArg().argName("adamw|adamw8bit").desc("adamw8bit is"
                + " --use-8bit-adam (CPU only); default adamw").build());
        o.addOption(Option.builder().longOpt("device").hasArg().desc("cpu (default) or cuda, where the model"
                + " trains; on cuda in fp32, or in fp16/bf16 with --mixed-precision").build());
        TrainFlags.addTo(o);
        CustomDiffusionRun.addOptions(o);
        LoraTrainFlags.addTo(o);
        VaeRun.addOptions(o);
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        String[] methods = cmd.getArgs();
        if (methods.length != 1 || !METHODS.contains(methods[0])) {
            String what = methods.length == 0 ? "sdj train needs a method"
                    : methods.length > 1 ? "sdj train takes one method, got " + methods.length
                    : "'" + methods[0] + "' is not available";
            return usage(what + "; " + AVAILABLE + ".");
        }
        if (!cmd.hasOption("check")) {
            if (cmd.hasOption("reference")) {
                return usage("--reference DIR goes with --check; add --check to replay the reference, or leave"
                        + " --reference out to train.");
            }
            try {
                return switch (methods[0]) {
                    case "custom-diffusion" -> CustomDiffusionRun.train(cmd);
                    case "lora" -> LoraRun.run(cmd);
                    case "text-to-image" -> DreamBoothRun.runTextToImage(cmd);
                    case "vae" -> VaeRun.run(cmd);
                    default -> DreamBoothRun.run(cmd);
                };
            } catch (UserError e) {
                return usage(e.getMessage());
            }
        }
        if (methods[0].equals("vae")) {
            return usage("sdj train vae has no training reference to --check against; leave --check out to train.");
        }
        return check(cmd, methods[0]);
    }

    private static int check(CommandLine cmd, String method) throws IOException {
        if (!cmd.hasOption("reference")) {
            return usage("--check needs --reference DIR, a folder with " + REFERENCE_FILE + ".");
        }
        Path dir = Path.of(cmd.getOptionValue("reference"));
        if (!Files.isDirectory(dir)) {
            return usage("--reference " + dir + " does not exist or is not a folder; give the folder that holds "
                    + REFERENCE_FILE + ".");
        }
        Path reference = dir.resolve(REFERENCE_FILE);
        if (!Files.isRegularFile(reference)) {
            return usage(dir + " has no " + REFERENCE_FILE + "; give the folder of a training reference (sd-tiny-train"
                    + " layout).");
        }
        Map<String, String> metadata = SafeTensors.open(reference).metadata();
        Matcher base = BASE.matcher(metadata.getOrDefault("base_checkpoint", DEFAULT_BASE));
        boolean described = base.matches();
        Path ckpt = cmd.hasOption("ckpt") ? Path.of(cmd.getOptionValue("ckpt"))
                : dir.toAbsolutePath().getParent().resolve(described ? base.group(1) : DEFAULT_BASE);
        if (!Files.isRegularFile(ckpt)) {
            return usage("the base checkpoint " + ckpt + " does not exist; pass it with --ckpt FILE.");
        }
        if (described && base.group(2) != null && !base.group(2).equals(sha256(ckpt))) {
            System.err.println("sdj train: note: " + ckpt + " is not the reference's base checkpoint (sha256 "
                    + base.group(2) + "), so expect FAIL lines.");
        }
        if (method.equals("custom-diffusion")) {
            return CustomDiffusionRun.check(cmd, ckpt, reference);
        }
        ReferenceCheck check = method.equals("lora")
                ? LoraReference.check(ckpt, reference, c -> System.out.println(c.line()))
                : DreamBoothReference.checkAllUpdates(ckpt, reference, c -> System.out.println(c.line()));
        System.out.println(check.summary());
        return check.allPass() && !check.checks().isEmpty() ? 0 : 1;
    }

    private static int usage(String sentence) {
        System.err.println("sdj train: " + sentence);
        return 2;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0;) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
