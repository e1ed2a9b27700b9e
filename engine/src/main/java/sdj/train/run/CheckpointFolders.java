package sdj.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code checkpoint-N} folders of an output folder (accelerate's naming, N = optimizer steps
 * done): finding the newest complete one for {@code --resume_from_checkpoint latest}, keeping the
 * newest K, and clearing the half-written folders a killed run leaves ({@code .checkpoint-N.partial}).
 */
public final class CheckpointFolders {
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    static final String PARTIAL_PREFIX = ".checkpoint-";
    static final String PARTIAL_SUFFIX = ".partial";

    private CheckpointFolders() {
    }

    public static Path folder(Path outputDir, long step) {
        return outputDir.resolve("checkpoint-" + step);
    }

    /** Where checkpoint-N is written before its rename. */
    static Path partial(Path outputDir, long step) {
        return outputDir.resolve(PARTIAL_PREFIX + step + PARTIAL_SUFFIX);
    }

    /** The complete checkpoint folders (those with a state file), oldest first. */
    public static List<Path> list(Path outputDir) throws IOException {
        if (!Files.isDirectory(outputDir)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(outputDir)) {
            for (Path p : entries.toList()) {
                if (NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p.resolve(TrainingCheckpoint.STATE))) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(CheckpointFolders::step));
        return out;
    }

    /** The step number of a checkpoint-N folder. */
    public static long step(Path folder) {
        Matcher m = NAME.matcher(folder.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("Folder " + folder + " is not named checkpoint-N; give a checkpoint folder"
                    + " a run wrote, or \"latest\".");
        }
        return Long.parseLong(m.group(1));
    }

    /** {@code resumeFromCheckpoint}: "latest" → the newest complete checkpoint (null when there is none), else the folder. */
    public static Path resolve(Path outputDir, String resumeFrom) throws IOException {
        if (!"latest".equals(resumeFrom)) {
            return Path.of(resumeFrom);
        }
        List<Path> all = list(outputDir);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Deletes the oldest complete checkpoints until at most {@code keep} remain. */
    public static void keepNewest(Path outputDir, int keep) throws IOException {
        List<Path> all = list(outputDir);
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
    }

    /** Removes the partial folders a crashed or killed save left behind. */
    public static void removePartials(Path outputDir) throws IOException {
        if (!Files.isDirectory(outputDir)) {
            return;
        }
        try (Stream<Path> entries = Files.list(outputDir)) {
            for (Path p : entries.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(PARTIAL_PREFIX) && n.endsWith(PARTIAL_SUFFIX)) {
                    deleteTree(p);
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
