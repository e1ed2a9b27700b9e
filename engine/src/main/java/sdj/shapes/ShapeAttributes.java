package sdj.shapes;

/**
 * The three attributes of an image, as the labels captions use ("red", "circle", "blue"), or
 * {@link #NONE} where the classifier found nothing.
 */
public record ShapeAttributes(String colour, String shape, String background) {
    public static final String NONE = "none";

    /** The attributes a sample was drawn with. */
    public static ShapeAttributes of(ShapeSample s) {
        return new ShapeAttributes(s.colour().label(), s.shape().label(), s.background().label());
    }
}
