package sdj.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the CLIP vocabulary: {@code --vocab}, else {@code $SDJ_CLIP_VOCAB}, else the copy committed
 * in the repository ({@code models/clip/}), else the shared data folder beside the repository.
 */
final class ClipVocabLocator {
    static final String ENV = "SDJ_CLIP_VOCAB";
    static final String FILE = "bpe_simple_vocab_16e6.txt.gz";

    private ClipVocabLocator() {
    }

    /** Resolves with this process's environment and {@code sdj.root} (set by the launcher; else the working folder). */
    static Path locate(String flagValue) {
        return locate(flagValue, System.getenv(ENV), Path.of(System.getProperty("sdj.root", ".")));
    }

    static Path locate(String flagValue, String envValue, Path root) {
        if (flagValue != null) {
            return existing(Path.of(flagValue), "--vocab");
        }
        if (envValue != null && !envValue.isBlank()) {
            return existing(Path.of(envValue), "$" + ENV);
        }
        List<Path> defaults = new ArrayList<>();
        // Lexical ".." like the launcher's `cd`, so the shared folder is found beside the repository as named.
        defaults.add(root.resolve("models/clip").resolve(FILE).normalize());
        defaults.add(root.resolve("../shared/data/clip").resolve(FILE).normalize());
        for (Path p : defaults) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new UserError("no CLIP vocabulary found: put " + FILE + " (from OpenAI CLIP) at "
                + defaults.get(0).toAbsolutePath().normalize() + ", or pass --vocab FILE, or set " + ENV);
    }

    private static Path existing(Path p, String source) {
        if (!Files.exists(p)) {
            throw new UserError(source + " names " + p + ", which does not exist; give " + FILE
                    + ", a vocab.json with merges.txt beside it, or a folder holding them");
        }
        return p;
    }
}
