package sdj.shapes;

import java.util.List;
import java.util.Locale;

/** Per-attribute accuracy of classified images against the attributes they were meant to show. */
public final class ShapeScores {
    private int total;
    private int colour;
    private int shape;
    private int background;
    private int allThree;

    /** Counts one image: what it should show and what the classifier found. */
    public void add(ShapeAttributes expected, ShapeAttributes found) {
        boolean c = expected.colour().equals(found.colour());
        boolean s = expected.shape().equals(found.shape());
        boolean b = expected.background().equals(found.background());
        total++;
        colour += c ? 1 : 0;
        shape += s ? 1 : 0;
        background += b ? 1 : 0;
        allThree += c && s && b ? 1 : 0;
    }

    public int total() {
        return total;
    }

    public double colourAccuracy() {
        return fraction(colour);
    }

    public double shapeAccuracy() {
        return fraction(shape);
    }

    public double backgroundAccuracy() {
        return fraction(background);
    }

    public double allThreeAccuracy() {
        return fraction(allThree);
    }

    /** One line per attribute, e.g. "colour 97.0% (97/100)", then "all three ...". */
    public List<String> lines() {
        return List.of(line("colour", colour), line("shape", shape), line("background", background),
                line("all three", allThree));
    }

    private String line(String name, int right) {
        return String.format(Locale.ROOT, "%s %.1f%% (%d/%d)", name, 100 * fraction(right), right, total);
    }

    private double fraction(int right) {
        return total == 0 ? 0 : right / (double) total;
    }
}
