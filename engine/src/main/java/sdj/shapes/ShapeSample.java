package sdj.shapes;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One image of the dataset: a shape of {@code colour} on a {@code background}, its bounding box
 * {@code extent} pixels wide and high, centred at ({@code centreX}, {@code centreY}) in pixel
 * coordinates (the image's top-left corner is (0, 0)).
 */
public record ShapeSample(Colour colour, Shape shape, Colour background, double extent, double centreX,
        double centreY) {
    public ShapeSample {
        if (colour == background) {
            throw new IllegalArgumentException("a " + colour.label() + " shape on a " + background.label()
                    + " background would be invisible: pick two different colours");
        }
    }

    /** The caption from a template with the placeholders {colour}, {shape} and {background}. */
    public String caption(String template) {
        return template.replace("{colour}", colour.label())
                .replace("{shape}", shape.label())
                .replace("{background}", background.label());
    }

    /** The {@code metadata.jsonl} object (imagefolder's file_name and text, plus the attributes for scoring). */
    public Map<String, Object> metadata(String fileName, String captionTemplate) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file_name", fileName);
        m.put("text", caption(captionTemplate));
        m.put("colour", colour.label());
        m.put("shape", shape.label());
        m.put("background", background.label());
        return m;
    }
}
