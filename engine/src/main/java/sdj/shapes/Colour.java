package sdj.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The palette: saturated corners of the RGB cube, so that any two colours differ by at least 255 in
 * one channel and a blurred or noisy pixel still has one clear nearest colour.
 */
public enum Colour {
    RED(255, 0, 0),
    GREEN(0, 255, 0),
    BLUE(0, 0, 255),
    YELLOW(255, 255, 0),
    WHITE(255, 255, 255),
    BLACK(0, 0, 0);

    private final int r;
    private final int g;
    private final int b;

    Colour(int r, int g, int b) {
        this.r = r;
        this.g = g;
        this.b = b;
    }

    /** The lower-case name used in captions and metadata, e.g. "red". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Packed {@code 0xRRGGBB}. */
    public int rgb() {
        return r << 16 | g << 8 | b;
    }

    /** Squared RGB distance from (pr, pg, pb) to this colour. */
    double distanceSquared(double pr, double pg, double pb) {
        return (pr - r) * (pr - r) + (pg - g) * (pg - g) + (pb - b) * (pb - b);
    }

    /** The colour nearest to (pr, pg, pb), never {@code excluded} (which may be null). */
    static Colour nearest(double pr, double pg, double pb, Colour excluded) {
        Colour best = null;
        double bestD = Double.POSITIVE_INFINITY;
        for (Colour c : values()) {
            double d = c.distanceSquared(pr, pg, pb);
            if (c != excluded && d < bestD) {
                best = c;
                bestD = d;
            }
        }
        return best;
    }

    /** The colour called {@code label} ("red", case-insensitive). */
    public static Colour parse(String label) {
        for (Colour c : values()) {
            if (c.label().equalsIgnoreCase(label.strip())) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown colour '" + label + "': use one of " + labels(List.of(values())));
    }

    /** Colours from a comma-separated list such as "red,green,blue". */
    public static List<Colour> parseList(String commaSeparated) {
        List<Colour> out = new ArrayList<>();
        for (String s : commaSeparated.split(",")) {
            Colour c = parse(s);
            if (!out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    static String labels(List<? extends Enum<?>> values) {
        return String.join(", ", values.stream().map(v -> v.name().toLowerCase(Locale.ROOT)).toList());
    }
}
