package sdj.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.awt.image.BufferedImage;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fixed evaluation set: coverage, captions, seeds; and scoring against drawn images. */
class ShapesEvaluationTest {
    @Test
    void sixtyFourCasesCoverEveryShapeColourAndBackgroundEvenly() {
        List<ShapesEvaluation.Case> cases = ShapesEvaluation.cases(64, List.of(Colour.values()), Shape.baseShapes(),
                ShapesDataset.DEFAULT_CAPTION, 1000);
        assertEquals(64, cases.size());
        Map<String, Integer> shapes = new HashMap<>();
        Set<String> colours = new HashSet<>();
        Set<String> backgrounds = new HashSet<>();
        for (int i = 0; i < cases.size(); i++) {
            ShapesEvaluation.Case c = cases.get(i);
            assertNotEquals(c.expected().colour(), c.expected().background());
            assertEquals(1000 + i, c.seed());
            assertEquals("a " + c.expected().colour() + " " + c.expected().shape() + " on a " + c.expected().background()
                    + " background", c.prompt());
            shapes.merge(c.expected().shape(), 1, Integer::sum);
            colours.add(c.expected().colour());
            backgrounds.add(c.expected().background());
        }
        assertEquals(3, shapes.size());
        shapes.values().forEach(n -> assertEquals(21, n, 1.0)); // 64 over 3 shapes: 21 or 22 each
        assertEquals(6, colours.size());
        assertEquals(6, backgrounds.size());
    }

    @Test
    void asManyCasesAsCombinationsListEachOnce() {
        List<ShapesEvaluation.Case> cases = ShapesEvaluation.cases(90, List.of(Colour.values()), Shape.baseShapes(),
                ShapesDataset.DEFAULT_CAPTION, 0);
        assertEquals(90, new HashSet<>(cases.stream().map(ShapesEvaluation.Case::expected).toList()).size());
    }

    @Test
    void aNewWordTakesTheShapesPlaceInThePrompt() {
        ShapesEvaluation.Case c = ShapesEvaluation.cases(1, List.of(Colour.RED, Colour.BLUE), List.of(Shape.STAR),
                "a {colour} <new1> on a {background} background", 7).get(0);
        assertEquals(new ShapeAttributes("red", "star", "blue"), c.expected());
        assertEquals("a red <new1> on a blue background", c.prompt());
    }

    @Test
    void scoresCountWhatTheClassifierFindsInTheDrawnImages() {
        List<ShapesEvaluation.Case> cases = ShapesEvaluation.cases(12, List.of(Colour.values()), Shape.baseShapes(),
                ShapesDataset.DEFAULT_CAPTION, 0);
        // a "model" that always draws a red square on blue: right only where the case asks for that
        ShapeSample redSquare = new ShapeSample(Colour.RED, Shape.SQUARE, Colour.BLUE, 36, 32, 32);
        BufferedImage drawn = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        drawn.setRGB(0, 0, 64, 64, ShapeRenderer.render(redSquare, 64), 0, 64);
        ShapeScores s = ShapesEvaluation.score(cases, c -> drawn);
        long colour = cases.stream().filter(c -> c.expected().colour().equals("red")).count();
        long shape = cases.stream().filter(c -> c.expected().shape().equals("square")).count();
        assertEquals(colour / 12.0, s.colourAccuracy(), 1e-12);
        assertEquals(shape / 12.0, s.shapeAccuracy(), 1e-12);
    }
}
