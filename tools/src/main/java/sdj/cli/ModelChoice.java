package sdj.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import sdj.io.SafeTensors;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;

/**
 * The weights txt2img and img2img draw with: {@code --ckpt}, else SD v1.4 at {@value #SD_V1_4}, else sdj's own
 * small model at {@value #EMBEDDED} (trained from scratch by sdj on its shapes dataset, shipped in the repository),
 * so that a fresh clone draws without a download. The embedded model brings its sampling defaults; a .safetensors
 * written by sdj's trainers brings its config.
 */
record ModelChoice(Path checkpoint, ModelConfigs configs, boolean embedded) {
    static final String SD_V1_4 = "models/sd-v1-4.ckpt";
    static final String EMBEDDED = "models/sdj-shapes.safetensors";
    static final String EMBEDDED_CONFIG = "models/sdj-shapes.json";

    /** The embedded model's image size (its training resolution), sampler, steps and guidance scale. */
    static final int EMBEDDED_SIZE = 64;
    static final String EMBEDDED_SAMPLER = "ddim";
    static final int EMBEDDED_STEPS = 20;
    static final double EMBEDDED_SCALE = 5.0;

    static ModelChoice of(CommandLine cmd) throws IOException {
        if (cmd.hasOption("ckpt")) {
            Path ckpt = VerifyCommand.existing(cmd.getOptionValue("ckpt"), "--ckpt");
            return new ModelChoice(ckpt, configs(cmd, ckpt, ModelConfigs.SD_V1), false);
        }
        Path root = Path.of(System.getProperty("sdj.root", "."));
        Path sd = root.resolve(SD_V1_4);
        if (Files.isRegularFile(sd)) {
            return new ModelChoice(sd, Flags.modelConfigs(cmd), false);
        }
        Path own = root.resolve(EMBEDDED);
        if (Files.isRegularFile(own)) {
            return new ModelChoice(own, configs(cmd, own, ModelConfigFiles.read(root.resolve(EMBEDDED_CONFIG))), true);
        }
        throw new UserError("no checkpoint at " + sd + ": put the Stable Diffusion v1.4 weights there (sd-v1-4.ckpt, "
                + "4.27 GB, the CompVis release on Hugging Face: CompVis/stable-diffusion-v-1-4-original) or pass "
                + "--ckpt FILE (.ckpt or .safetensors of any SD v1.x model); sdj never downloads weights (and sdj's own "
                + "small model, " + own + ", is missing too: git checkout it)");
    }

    /**
     * --config when given; else the config a .safetensors file carries in its metadata (what sdj's trainers write:
     * "unet", "vae", "clip", "scale_factor"); else {@code fallback}.
     */
    private static ModelConfigs configs(CommandLine cmd, Path checkpoint, ModelConfigs fallback) throws IOException {
        if (cmd.hasOption("config")) {
            return Flags.modelConfigs(cmd);
        }
        if (checkpoint.getFileName().toString().endsWith(".safetensors")) {
            Map<String, String> metadata = SafeTensors.open(checkpoint).metadata();
            if (metadata.containsKey("unet")) {
                return ModelConfigFiles.fromMetadata(metadata, checkpoint.toString());
            }
        }
        return fallback;
    }

    /** The line that says which model draws and how to use SD v1.4 instead (embedded model only). */
    String notice() {
        return "no --ckpt and no " + SD_V1_4 + ": drawing with sdj's own small model " + EMBEDDED + " (64x64 shapes, "
                + "e.g. \"a red circle on a blue background\"); for Stable Diffusion v1.4 put sd-v1-4.ckpt at " + SD_V1_4
                + " or pass --ckpt FILE";
    }
}
