package sdj.shapes;

/**
 * Draws a {@link ShapeSample}: each pixel's colour is the background blended with the shape colour
 * by the fraction of a 4x4 grid of sample points inside the shape, so edges are anti-aliased the
 * same way on every machine (no Java2D, whose rasteriser may differ between JDKs).
 */
public final class ShapeRenderer {
    /** Sample points per pixel along each axis. */
    static final int SUPERSAMPLING = 4;

    private ShapeRenderer() {
    }

    /** Packed {@code 0xRRGGBB} pixels, row-major, of a {@code size x size} image of {@code s}. */
    public static int[] render(ShapeSample s, int size) {
        int[] out = new int[size * size];
        int fg = s.colour().rgb();
        int bg = s.background().rgb();
        double half = s.extent() / 2;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int inside = 0;
                for (int j = 0; j < SUPERSAMPLING; j++) {
                    double v = (y + (j + 0.5) / SUPERSAMPLING - s.centreY()) / half;
                    for (int i = 0; i < SUPERSAMPLING; i++) {
                        double u = (x + (i + 0.5) / SUPERSAMPLING - s.centreX()) / half;
                        if (s.shape().contains(u, v)) {
                            inside++;
                        }
                    }
                }
                out[y * size + x] = blend(bg, fg, inside, SUPERSAMPLING * SUPERSAMPLING);
            }
        }
        return out;
    }

    /** {@code bg + (fg - bg) * num / den} per channel, rounded half up. */
    static int blend(int bg, int fg, int num, int den) {
        int out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
            int b = bg >> shift & 0xFF;
            int f = fg >> shift & 0xFF;
            int c = Math.floorDiv(2 * (b * den + (f - b) * num) + den, 2 * den);
            out |= c << shift;
        }
        return out;
    }
}
