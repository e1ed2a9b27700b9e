package sdj.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.TokenEmbeddingFiles;
import sdj.sd.clip.TokenEmbeddingInstaller;
import sdj.sd.pipeline.StableDiffusion;
import sdj.train.cd.CustomDiffusionDelta;
import sdj.train.cd.DeltaApplication;
import sdj.train.cd.DeltaFiles;

/** The generate commands' --embeddings and --delta-ckpt: tokens and weights added to the loaded model. */
final class Personalization {
    private Personalization() {
    }

    static void apply(CommandLine cmd, StableDiffusion sd, ModelConfigs configs) throws IOException {
        if (cmd.hasOption("embeddings")) {
            Path p = existing(cmd.getOptionValue("embeddings"), "--embeddings");
            var all = TokenEmbeddingFiles.read(p);
            TokenEmbeddingInstaller.install(sd.tokenizer(), sd.model().clip(), all);
            for (var e : all) {
                System.err.println("embedding " + e.token() + ": " + e.vectors().size(0) + " vector(s) from " + e.source());
            }
        }
        if (cmd.hasOption("delta-ckpt")) {
            Path p = existing(cmd.getOptionValue("delta-ckpt"), "--delta-ckpt");
            CustomDiffusionDelta delta = new DeltaFiles(DiffusersNames.of(configs)).read(p);
            DeltaApplication.apply(sd.model(), sd.tokenizer(), delta, p.toString());
            System.err.println("delta " + p + ": " + delta.keys().size() + " weights" + (delta.compressed()
                    ? " (compressed)" : "") + ", tokens " + delta.tokens());
        }
    }

    /** A file or folder that exists. */
    private static Path existing(String value, String flag) {
        Path p = Path.of(value);
        if (!java.nio.file.Files.exists(p)) {
            throw new UserError(flag + " " + value + " does not exist");
        }
        return p;
    }
}
