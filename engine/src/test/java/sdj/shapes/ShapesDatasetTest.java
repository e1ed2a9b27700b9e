package sdj.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.image.Images;
import sdj.io.Json;

/** The renderer and the generator, checked from the pixels and files themselves (not via the classifier). */
class ShapesDatasetTest {
    @TempDir
    Path tmp;

    @Test
    void aLargeCircleHasItsColourInsideAndTheBackgroundInTheCorners() {
        int[] px = ShapeRenderer.render(new ShapeSample(Colour.RED, Shape.CIRCLE, Colour.BLUE, 40, 32, 32), 64);
        assertEquals(0xFF0000, px[32 * 64 + 32]);
        for (int corner : new int[] {0, 63, 63 * 64, 64 * 64 - 1}) {
            assertEquals(0x0000FF, px[corner]);
        }
    }

    @Test
    void aSquareEdgeThroughThePixelMiddleGivesTheHalfwayColour() {
        // extent 40 centred at x = 32.5: the left edge is x = 12.5, so pixel 12 has 8 of its 16 points inside
        int[] px = ShapeRenderer.render(new ShapeSample(Colour.RED, Shape.SQUARE, Colour.BLUE, 40, 32.5, 32), 64);
        assertEquals(0x800080, px[32 * 64 + 12]); // (127.5, 0, 127.5) rounded half up
        assertEquals(0x0000FF, px[32 * 64 + 11]);
        assertEquals(0xFF0000, px[32 * 64 + 13]);
    }

    @Test
    void edgePixelsBlendTheTwoColours() {
        int[] px = ShapeRenderer.render(new ShapeSample(Colour.WHITE, Shape.CIRCLE, Colour.BLACK, 30.3, 31.7, 30.2), 64);
        int between = 0;
        for (int p : px) {
            int r = p >> 16 & 0xFF;
            assertEquals(r, p >> 8 & 0xFF); // grey: both channels blend the same way
            between += r > 0 && r < 255 ? 1 : 0;
        }
        // a circle of circumference ~95 px crosses about that many pixels partly
        assertTrue(between > 60 && between < 160, "edge pixels: " + between);
    }

    @Test
    void blendRoundsHalfUp() {
        assertEquals(0x800080, ShapeRenderer.blend(0x000000, 0xFF00FF, 8, 16)); // 127.5 -> 128
        assertEquals(0x00FF00, ShapeRenderer.blend(0x00FF00, 0xFFFF00, 0, 16));
    }

    @Test
    void theTriangleAndStarPointUpAndTheHeartDown() {
        assertTrue(Shape.TRIANGLE.contains(0, -0.95) && !Shape.TRIANGLE.contains(-0.9, -0.95));
        assertTrue(Shape.STAR.contains(0, -0.95) && !Shape.STAR.contains(0, 0.95));
        assertTrue(Shape.HEART.contains(0, 0.95) && !Shape.HEART.contains(0, -0.95) && Shape.HEART.contains(-0.5, -0.7));
    }

    @Test
    void samplesStayInsideTheImageAndNeverMatchTheirBackground() {
        List<ShapeSample> samples = ShapesDataset.defaults().samples(1, 2000);
        for (ShapeSample s : samples) {
            assertNotEquals(s.colour(), s.background());
            assertTrue(s.extent() >= 24 && s.extent() <= 44, s.toString());
            assertTrue(s.centreX() - s.extent() / 2 >= 2 && s.centreX() + s.extent() / 2 <= 62, s.toString());
            assertTrue(s.centreY() - s.extent() / 2 >= 2 && s.centreY() + s.extent() / 2 <= 62, s.toString());
            assertTrue(s.shape().isBase());
        }
        // every colour pair (30 ordered) and base shape shows up in 2000 draws
        assertEquals(30 * 3, samples.stream().map(s -> s.colour() + "/" + s.background() + "/" + s.shape())
                .distinct().count());
    }

    @Test
    void metadataLinesParseAndDescribeTheirFiles() throws Exception {
        ShapesDataset d = new ShapesDataset(64, List.of(Colour.values()), List.of(Shape.STAR),
                "a {colour} <new1> on a {background} background");
        List<ShapeSample> samples = d.write(tmp, 4, 6);
        List<String> lines = java.nio.file.Files.readAllLines(tmp.resolve("metadata.jsonl"));
        assertEquals(6, lines.size());
        for (int i = 0; i < 6; i++) {
            Map<String, Object> o = Json.parseObject(lines.get(i));
            ShapeSample s = samples.get(i);
            assertEquals(String.format("%05d.png", i), o.get("file_name"));
            assertEquals("a " + s.colour().label() + " <new1> on a " + s.background().label() + " background",
                    o.get("text"));
            assertEquals("star", o.get("shape"));
            BufferedImage img = Images.load(tmp.resolve((String) o.get("file_name")));
            assertEquals(64, img.getWidth());
            assertEquals(s.background().rgb(), img.getRGB(0, 0) & 0xFFFFFF);
            int cx = (int) s.centreX();
            int cy = (int) s.centreY();
            assertEquals(s.colour().rgb(), img.getRGB(cx, cy) & 0xFFFFFF, "centre of " + o);
        }
        assertEquals(List.of("00000.png", "00005.png"),
                List.of(ShapesMetadata.read(tmp).get(0).fileName(), ShapesMetadata.read(tmp).get(5).fileName()));
    }

    @Test
    void theSameSeedGivesTheSameSamplesAndAnotherSeedOthers() {
        assertEquals(ShapesDataset.defaults().samples(7, 50), ShapesDataset.defaults().samples(7, 50));
        assertNotEquals(ShapesDataset.defaults().samples(7, 50), ShapesDataset.defaults().samples(8, 50));
    }
}
