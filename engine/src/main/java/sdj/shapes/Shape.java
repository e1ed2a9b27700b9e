package sdj.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The shapes, each defined on its own bounding box mapped to [-1, 1] x [-1, 1] (u right, v down), so
 * that the renderer and the classifier's template match share one definition. None is rotated: the
 * triangle and the star point up, the heart points down.
 */
public enum Shape {
    CIRCLE(true) {
        @Override
        public boolean contains(double u, double v) {
            return u * u + v * v <= 1;
        }
    },
    SQUARE(true) {
        @Override
        public boolean contains(double u, double v) {
            return Math.abs(u) <= 1 && Math.abs(v) <= 1;
        }
    },
    TRIANGLE(true) {
        @Override
        public boolean contains(double u, double v) {
            // apex (0, -1), base corners (-1, 1) and (1, 1): half-width grows from 0 to 1 downwards
            return v <= 1 && Math.abs(u) <= (v + 1) / 2;
        }
    },
    STAR(false) {
        @Override
        public boolean contains(double u, double v) {
            return STAR_POLYGON.contains(u, v);
        }
    },
    HEART(false) {
        @Override
        public boolean contains(double u, double v) {
            // Built in a frame where the lobes are circles of radius 0.5 at (±0.5, -0.25) and the point
            // is (0, 1): y spans [-0.75, 1], so v = (y - 0.125) / 0.875 maps it onto [-1, 1].
            double y = v * 0.875 + 0.125;
            double dl = (u + 0.5) * (u + 0.5) + (y + 0.25) * (y + 0.25);
            double dr = (u - 0.5) * (u - 0.5) + (y + 0.25) * (y + 0.25);
            boolean lobes = dl <= 0.25 || dr <= 0.25;
            // the lower part: the triangle from the lobes' outer points (±1, -0.25) to the point (0, 1)
            boolean lower = y >= -0.25 && y <= 1 && Math.abs(u) <= (1 - y) / 1.25;
            return lobes || lower;
        }
    };

    private static final Polygon STAR_POLYGON = Polygon.star();

    private final boolean base;

    Shape(boolean base) {
        this.base = base;
    }

    /** Whether (u, v), in the shape's bounding box mapped to [-1, 1]², lies inside the shape. */
    public abstract boolean contains(double u, double v);

    /** Whether the shape is in the base set the embedded model learns (star and heart are for fine-tuning). */
    public boolean isBase() {
        return base;
    }

    /** The lower-case name used in captions and metadata, e.g. "circle". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The base shapes: circle, square, triangle. */
    public static List<Shape> baseShapes() {
        return List.of(values()).stream().filter(Shape::isBase).toList();
    }

    /** The shape called {@code label} ("circle", case-insensitive). */
    public static Shape parse(String label) {
        for (Shape s : values()) {
            if (s.label().equalsIgnoreCase(label.strip())) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown shape '" + label + "': use one of "
                + Colour.labels(List.of(values())));
    }

    /** Shapes from a comma-separated list such as "circle,square,triangle". */
    public static List<Shape> parseList(String commaSeparated) {
        List<Shape> out = new ArrayList<>();
        for (String s : commaSeparated.split(",")) {
            Shape shape = parse(s);
            if (!out.contains(shape)) {
                out.add(shape);
            }
        }
        return out;
    }
}
