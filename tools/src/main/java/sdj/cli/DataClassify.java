package sdj.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import sdj.image.Images;
import sdj.shapes.ShapeClassifier;
import sdj.shapes.ShapeScores;
import sdj.shapes.ShapesMetadata;

/** `sdj data classify DIR`: classifies every image listed in DIR/metadata.jsonl and prints the accuracy. */
final class DataClassify {
    private DataClassify() {
    }

    static int run(String[] args) throws IOException {
        if (args.length != 2) {
            throw new UserError("give one folder: 'sdj data classify DIR' (DIR holds metadata.jsonl and the images)");
        }
        Path dir = Path.of(args[1]);
        if (!Files.isDirectory(dir)) {
            throw new UserError("folder " + dir + " does not exist: give a folder written by 'sdj data shapes'");
        }
        ShapeScores scores = new ShapeScores();
        try {
            for (ShapesMetadata.Entry e : ShapesMetadata.read(dir)) {
                scores.add(e.expected(), ShapeClassifier.classify(Images.load(dir.resolve(e.fileName()))));
            }
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        }
        scores.lines().forEach(System.out::println);
        return 0;
    }
}
