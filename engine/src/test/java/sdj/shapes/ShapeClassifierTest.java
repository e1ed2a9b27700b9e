package sdj.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The classifier on the dataset's own images, clean and degraded the way a small diffusion model's are. */
class ShapeClassifierTest {
    private static final ShapesDataset ALL_SHAPES =
            new ShapesDataset(64, List.of(Colour.values()), List.of(Shape.values()), ShapesDataset.DEFAULT_CAPTION);

    @Test
    void readsCleanImagesBackOnEveryAttribute() {
        ShapeScores scores = score(ALL_SHAPES.samples(11, 500), false);
        System.out.println("clean images: " + scores.lines());
        assertAtLeast(0.98, scores);
    }

    @Test
    void readsBlurredNoisyImagesBack() {
        ShapeScores scores = score(ALL_SHAPES.samples(12, 500), true);
        System.out.println("3x3 box blur + noise sigma 10: " + scores.lines());
        assertAtLeast(0.95, scores);
    }

    @Test
    void readsHeavilyDegradedImagesBackMostly() {
        // softer than expected from the model: two box blurs (a 5x5 tent), colours off by up to 40 per
        // channel (the same shift for the whole image) and noise sigma 20
        ShapeScores scores = new ShapeScores();
        Random random = new Random(6);
        for (ShapeSample s : ALL_SHAPES.samples(13, 500)) {
            int[] rgb = ShapeRenderer.render(s, 64);
            rgb = Degrade.boxBlur3(Degrade.boxBlur3(rgb, 64, 64), 64, 64);
            rgb = Degrade.noisy(Degrade.shifted(rgb, 40, random), 20, random);
            scores.add(ShapeAttributes.of(s), ShapeClassifier.classify(rgb, 64, 64));
        }
        System.out.println("5x5 tent blur + colour shift 40 + noise sigma 20: " + scores.lines());
        assertAtLeast(0.95, scores);
    }

    @Test
    void aPlainImageHasNoShape() {
        int[] rgb = new int[64 * 64];
        java.util.Arrays.fill(rgb, Colour.BLUE.rgb());
        assertEquals(new ShapeAttributes("none", "none", "blue"), ShapeClassifier.classify(rgb, 64, 64));
    }

    @Test
    void randomPixelsShowNoShape() {
        Random random = new Random(21);
        for (int k = 0; k < 10; k++) {
            int[] rgb = new int[64 * 64];
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = random.nextInt(1 << 24);
            }
            assertEquals("none", ShapeClassifier.classify(rgb, 64, 64).shape());
        }
    }

    @Test
    void aShapeRunningOffTheEdgeStillGivesBothColours() {
        // a square 40 px wide centred at (10, 32) runs off the left edge: a third of the border ring is
        // shape, so only a median (not a mean) of the ring still gives the background
        int[] offEdge = ShapeRenderer.render(new ShapeSample(Colour.YELLOW, Shape.SQUARE, Colour.BLACK, 40, 10, 32), 64);
        assertEquals("black", ShapeClassifier.classify(offEdge, 64, 64).background());
        assertEquals("yellow", ShapeClassifier.classify(offEdge, 64, 64).colour());
    }

    private static ShapeScores score(List<ShapeSample> samples, boolean degrade) {
        ShapeScores scores = new ShapeScores();
        Random noise = new Random(5);
        for (ShapeSample s : samples) {
            int[] rgb = ShapeRenderer.render(s, 64);
            if (degrade) {
                rgb = Degrade.noisy(Degrade.boxBlur3(rgb, 64, 64), 10, noise);
            }
            scores.add(ShapeAttributes.of(s), ShapeClassifier.classify(rgb, 64, 64));
        }
        return scores;
    }

    private static void assertAtLeast(double floor, ShapeScores s) {
        assertTrue(s.total() >= 500);
        assertTrue(s.colourAccuracy() >= floor, s.lines().toString());
        assertTrue(s.shapeAccuracy() >= floor, s.lines().toString());
        assertTrue(s.backgroundAccuracy() >= floor, s.lines().toString());
    }
}
