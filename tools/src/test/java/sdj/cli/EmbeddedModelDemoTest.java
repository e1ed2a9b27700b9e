package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.image.Images;
import sdj.shapes.ShapeAttributes;
import sdj.shapes.ShapeClassifier;

/**
 * The README's commands on the embedded model: the first command draws what it says without a checkpoint,
 * and the three-command fine-tuning demo teaches the new word {@code <new1>} a shape the model never saw (a star,
 * from 5 generated images) while the old prompts keep drawing theirs. Scores come from the classifier.
 */
class EmbeddedModelDemoTest {
    static final String MODEL = "../models/sdj-shapes.safetensors";
    static final String STAR_CAPTION = "a {colour} <new1> on a {background} background";

    @TempDir
    Path tmp;

    @Test
    void theFirstCommandDrawsWithTheEmbeddedModelWhenThereIsNoCheckpoint() throws Exception {
        Assumptions.assumeFalse(Files.exists(Path.of("../models/sd-v1-4.ckpt")), "SD v1.4 is present: it draws instead");
        String oldRoot = System.getProperty("sdj.root");
        System.setProperty("sdj.root", "..");
        try {
            CliRun r = CliRun.sdj("txt2img", "--prompt", "a red circle on a blue background", "--outdir", tmp.toString());
            assertEquals(0, r.status(), r.err());
            assertTrue(r.err().contains("drawing with sdj's own small model models/sdj-shapes.safetensors"), r.err());
            Path png = Path.of(r.out().strip());
            BufferedImage image = Images.load(png);
            assertEquals(64, image.getWidth());
            assertEquals(new ShapeAttributes("red", "circle", "blue"), ShapeClassifier.classify(image));
        } finally {
            if (oldRoot == null) {
                System.clearProperty("sdj.root");
            } else {
                System.setProperty("sdj.root", oldRoot);
            }
        }
    }

    @Test
    void customDiffusionTeachesTheModelAStarInAFewMinutes() throws Exception {
        Path star = tmp.resolve("star");
        Path out = tmp.resolve("star-cd");
        CliRun data = CliRun.sdj("data", "shapes", "--shapes", "star", "--count", "5", "--seed", "1", "--caption",
                STAR_CAPTION, "--out", star.toString());
        assertEquals(0, data.status(), data.err());
        CliRun train = CliRun.sdj(DemoCommands.train(MODEL, star.toString(), out.toString()));
        assertEquals(0, train.status(), train.err());
        String delta = out.resolve("delta.ckpt").toString();

        CliRun stars = CliRun.sdj("evaluate", "--ckpt", MODEL, "--delta-ckpt", delta, "--shapes", "star", "--caption",
                STAR_CAPTION, "--count", "16");
        assertEquals(0, stars.status(), stars.err());
        double starShape = percent(stars.out(), "shape");
        assertTrue(starShape >= DemoCommands.STAR_FLOOR, stars.out());

        CliRun old = CliRun.sdj("evaluate", "--ckpt", MODEL, "--delta-ckpt", delta, "--count", "24");
        assertEquals(0, old.status(), old.err());
        assertTrue(percent(old.out(), "shape") >= DemoCommands.OLD_SHAPE_FLOOR, old.out());
        assertTrue(percent(old.out(), "colour") >= DemoCommands.OLD_COLOUR_FLOOR, old.out());
    }

    /** The percentage of an `sdj evaluate` line, e.g. "shape 87.5% (14/16)". */
    static double percent(String out, String attribute) {
        List<String> lines = out.lines().filter(l -> l.startsWith(attribute + " ")).toList();
        assertEquals(1, lines.size(), out);
        String p = lines.get(0).substring(attribute.length() + 1);
        return Double.parseDouble(p.substring(0, p.indexOf('%'))) / 100;
    }
}
