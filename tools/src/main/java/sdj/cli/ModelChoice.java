package sdj.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.shapes.EmbeddedModel;

/**
 * The weights txt2img and img2img draw with: {@code --ckpt}, else SD v1.4 at {@value #SD_V1_4}, else sdj's own
 * small model at {@value #EMBEDDED} (trained from scratch by sdj on its shapes dataset, shipped in the repository),
 * so that a fresh clone draws without a download. The embedded model brings its sampling defaults; a .safetensors
 * written by sdj's trainers brings its config.
 */
record ModelChoice(Path checkpoint, ModelConfigs configs, boolean embedded) {
    static final String SD_V1_4 = "models/sd-v1-4.ckpt";
    static final String EMBEDDED = EmbeddedModel.FILE;

    static ModelChoice of(CommandLine cmd) throws IOException {
        if (cmd.hasOption("ckpt")) {
            Path ckpt = VerifyCommand.existing(cmd.getOptionValue("ckpt"), "--ckpt");
            return new ModelChoice(ckpt, ModelConfigFiles.forCheckpoint(cmd.getOptionValue("config"), ckpt,
                    ModelConfigs.SD_V1), false);
        }
        Path root = Path.of(System.getProperty("sdj.root", "."));
        Path sd = root.resolve(SD_V1_4);
        if (Files.isRegularFile(sd)) {
            return new ModelChoice(sd, Flags.modelConfigs(cmd), false);
        }
        Path own = root.resolve(EMBEDDED);
        if (Files.isRegularFile(own)) {
            // the file carries its config; the JSON it was trained from is read only for a file without one
            ModelConfigs configs = ModelConfigFiles.forCheckpoint(cmd.getOptionValue("config"), own, null);
            return new ModelChoice(own, configs != null ? configs : ModelConfigFiles.read(root.resolve(EmbeddedModel.CONFIG)),
                    true);
        }
        throw new UserError("no checkpoint at " + sd + ": put the Stable Diffusion v1.4 weights there (sd-v1-4.ckpt, "
                + "4.27 GB, the CompVis release on Hugging Face: CompVis/stable-diffusion-v-1-4-original) or pass "
                + "--ckpt FILE (.ckpt or .safetensors of any SD v1.x model); sdj never downloads weights (and sdj's own "
                + "small model, " + own + ", is missing too: git checkout it)");
    }

    /** The line that says which model draws and how to use SD v1.4 instead (embedded model only). */
    String notice() {
        return "no --ckpt and no " + SD_V1_4 + ": drawing with sdj's own small model " + EMBEDDED + " (64x64 shapes, "
                + "e.g. \"a red circle on a blue background\"); for Stable Diffusion v1.4 put sd-v1-4.ckpt at " + SD_V1_4
                + " or pass --ckpt FILE";
    }
}
