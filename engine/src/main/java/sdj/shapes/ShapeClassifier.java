package sdj.shapes;

import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * Reads colour, shape and background back from an RGB image, without any learned parameters, so it
 * can score a generated image against its prompt.
 *
 * <ol>
 *   <li>Background: the per-channel median of the two-pixel border ring (medians ignore a shape
 *       that touches the border), then the nearest palette colour.</li>
 *   <li>Shape colour: the pixels far from the measured background (RGB distance over
 *       {@value #FAR_FROM_BACKGROUND}), their largest connected region, its per-channel median, the
 *       nearest palette colour other than the background (the dataset never draws both alike).</li>
 *   <li>Shape mask: pixels nearer the measured shape colour than the measured background (projection
 *       on the segment between them past its middle, which is where an anti-aliased or blurred edge
 *       crosses half coverage), largest connected region.</li>
 *   <li>Shape: the template of each {@link Shape} stretched onto the mask's bounding box; the one
 *       with the highest intersection over union wins. Shapes are never rotated, so the bounding box
 *       fixes position and scale and one comparison per shape suffices. A blob that overlaps no
 *       template by {@value TemplateMatch#MIN_IOU} is no shape ("none"): on 600 dataset images
 *       blurred 5x5, colour-shifted and noisy the best IoU was at least 0.61, on RGB noise at most 0.47.</li>
 * </ol>
 */
public final class ShapeClassifier {
    /** RGB distance from the background past which a pixel is certainly not background (palette gaps are >= 255). */
    static final double FAR_FROM_BACKGROUND = 100;
    /** Fewer mask pixels than this count as no shape at all (the smallest drawn shape has about 280 at 64x64). */
    static final int MIN_SHAPE_PIXELS = 12;

    private ShapeClassifier() {
    }

    /** The attributes of {@code image} (alpha dropped). */
    public static ShapeAttributes classify(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        return classify(rgb, w, h);
    }

    /** The attributes of packed {@code 0xRRGGBB} pixels, row-major (the high byte is ignored). */
    public static ShapeAttributes classify(int[] rgb, int width, int height) {
        if (width < 8 || height < 8 || rgb.length != width * height) {
            throw new IllegalArgumentException("cannot classify " + rgb.length + " pixels as a " + width + "x"
                    + height + " image: it needs at least 8x8 pixels, width*height of them");
        }
        double[] bg = borderMedian(rgb, width, height);
        Colour background = Colour.nearest(bg[0], bg[1], bg[2], null);

        boolean[] far = new boolean[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            far[i] = distance(rgb[i], bg) > FAR_FROM_BACKGROUND;
        }
        boolean[] core = ComponentMask.largest(far, width, height);
        if (count(core) < MIN_SHAPE_PIXELS) {
            return new ShapeAttributes(ShapeAttributes.NONE, ShapeAttributes.NONE, background.label());
        }
        double[] fg = median(rgb, core);
        Colour colour = Colour.nearest(fg[0], fg[1], fg[2], background);

        boolean[] mask = ComponentMask.largest(nearerShapeThanBackground(rgb, fg, bg), width, height);
        if (count(mask) < MIN_SHAPE_PIXELS) {
            return new ShapeAttributes(ShapeAttributes.NONE, ShapeAttributes.NONE, background.label());
        }
        Shape shape = TemplateMatch.best(mask, width, height);
        return new ShapeAttributes(colour.label(), shape == null ? ShapeAttributes.NONE : shape.label(),
                background.label());
    }

    private static boolean[] nearerShapeThanBackground(int[] rgb, double[] fg, double[] bg) {
        double[] d = {fg[0] - bg[0], fg[1] - bg[1], fg[2] - bg[2]};
        double norm2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        boolean[] out = new boolean[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            double t = ((r(rgb[i]) - bg[0]) * d[0] + (g(rgb[i]) - bg[1]) * d[1] + (b(rgb[i]) - bg[2]) * d[2]) / norm2;
            out[i] = t > 0.5;
        }
        return out;
    }

    private static double[] borderMedian(int[] rgb, int width, int height) {
        boolean[] ring = new boolean[rgb.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                ring[y * width + x] = x < 2 || y < 2 || x >= width - 2 || y >= height - 2;
            }
        }
        return median(rgb, ring);
    }

    /** The per-channel median of the selected pixels. */
    private static double[] median(int[] rgb, boolean[] selected) {
        int n = count(selected);
        int[][] channels = new int[3][n];
        int k = 0;
        for (int i = 0; i < rgb.length; i++) {
            if (selected[i]) {
                channels[0][k] = r(rgb[i]);
                channels[1][k] = g(rgb[i]);
                channels[2][k] = b(rgb[i]);
                k++;
            }
        }
        double[] out = new double[3];
        for (int c = 0; c < 3; c++) {
            Arrays.sort(channels[c]);
            out[c] = n % 2 == 1 ? channels[c][n / 2] : (channels[c][n / 2 - 1] + channels[c][n / 2]) / 2.0;
        }
        return out;
    }

    private static double distance(int p, double[] c) {
        double dr = r(p) - c[0];
        double dg = g(p) - c[1];
        double db = b(p) - c[2];
        return Math.sqrt(dr * dr + dg * dg + db * db);
    }

    private static int count(boolean[] mask) {
        int n = 0;
        for (boolean m : mask) {
            n += m ? 1 : 0;
        }
        return n;
    }

    private static int r(int p) {
        return p >> 16 & 0xFF;
    }

    private static int g(int p) {
        return p >> 8 & 0xFF;
    }

    private static int b(int p) {
        return p & 0xFF;
    }
}
