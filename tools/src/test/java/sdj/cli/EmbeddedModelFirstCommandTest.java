package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.image.Images;
import sdj.shapes.ShapeAttributes;
import sdj.shapes.ShapeClassifier;

/** The README's first command draws with the embedded model when there is no checkpoint. */
class EmbeddedModelFirstCommandTest {
    @TempDir
    Path tmp;

    @Test
    void theFirstCommandDrawsWithTheEmbeddedModelWhenThereIsNoCheckpoint() throws Exception {
        Assumptions.assumeFalse(Files.exists(Path.of("../models/sd-v1-4.ckpt")), "SD v1.4 is present: it draws instead");
        CliRun r = CliRun.sdjWithRoot("..", "txt2img", "--prompt", "a red circle on a blue background", "--outdir",
                tmp.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("drawing with sdj's own small model models/sdj-shapes.safetensors"), r.err());
        Path png = Path.of(r.out().strip());
        BufferedImage image = Images.load(png);
        assertEquals(64, image.getWidth());
        ShapeAttributes drawn = ShapeClassifier.classify(image);
        assertEquals(new ShapeAttributes("red", "circle", "blue"), drawn);
    }
}
