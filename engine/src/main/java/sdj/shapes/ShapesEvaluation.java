package sdj.shapes;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The fixed prompt/seed set that scores a model of the shapes dataset: each case names what its image should
 * show, the prompt that asks for it and the seed it is drawn with; {@link #score} draws every case and counts
 * what {@link ShapeClassifier} finds. The same set every time, so scores compare across models and commits.
 */
public final class ShapesEvaluation {
    /** One image to draw: its expected attributes, its prompt and its seed. */
    public record Case(ShapeAttributes expected, String prompt, long seed) {
    }

    private ShapesEvaluation() {
    }

    /**
     * {@code count} cases spread evenly over every (colour, background of another colour, shape) combination of
     * the lists, the shape changing fastest (so a few cases already cover every shape), captioned with
     * {@code captionTemplate}; case i has seed {@code firstSeed + i}. More cases than combinations repeat them
     * with other seeds.
     */
    public static List<Case> cases(int count, List<Colour> colours, List<Shape> shapes, String captionTemplate,
            long firstSeed) {
        List<ShapeAttributes> combinations = new ArrayList<>();
        for (Colour colour : colours) {
            for (Colour background : colours) {
                if (background == colour) {
                    continue;
                }
                for (Shape shape : shapes) {
                    combinations.add(new ShapeAttributes(colour.label(), shape.label(), background.label()));
                }
            }
        }
        if (combinations.isEmpty()) {
            throw new IllegalArgumentException("no case to draw: give at least two colours and one shape");
        }
        List<Case> cases = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ShapeAttributes a = combinations.get((int) ((long) i * combinations.size() / count) % combinations.size());
            cases.add(new Case(a, caption(captionTemplate, a), firstSeed + i));
        }
        return cases;
    }

    /** The caption of {@code a} in {@code template} ({colour}, {shape}, {background}). */
    public static String caption(String template, ShapeAttributes a) {
        return template.replace("{colour}", a.colour()).replace("{shape}", a.shape()).replace("{background}",
                a.background());
    }

    /** Draws every case with {@code draw} and scores what the classifier finds in the images against each case. */
    public static ShapeScores score(List<Case> cases, Function<Case, BufferedImage> draw) {
        ShapeScores scores = new ShapeScores();
        for (Case c : cases) {
            scores.add(c.expected(), ShapeClassifier.classify(draw.apply(c)));
        }
        return scores;
    }
}
