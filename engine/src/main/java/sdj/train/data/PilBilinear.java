package sdj.train.data;

/**
 * Resizing exactly as PIL's {@code Image.resize(size, BILINEAR)} does for 8-bit RGB images, which
 * is what torchvision's {@code Resize(size, interpolation=BILINEAR)} calls on PIL images (the
 * diffusers DreamBooth dataset).
 *
 * <p>PIL's "bilinear" is an anti-aliased triangle filter (Pillow {@code libImaging/Resample.c}):
 * <ul>
 *   <li>per axis, scale = in/out and filterscale = max(scale, 1); the filter is
 *       tri(x) = max(0, 1 − |x|) stretched by filterscale, so its support is filterscale input pixels
 *       each side when shrinking (every covered input pixel counts) and 1 pixel when enlarging (plain
 *       bilinear interpolation);</li>
 *   <li>output pixel i has centre c = (i + 0.5)·scale; the inputs j from (int)(c − support + 0.5)
 *       to (int)(c + support + 0.5), clamped to the image, get weight tri((j − c + 0.5)/filterscale),
 *       normalised to sum 1 (so edges renormalise instead of padding);</li>
 *   <li>the weights become fixed point with 22 fraction bits, each rounded half away from zero;
 *       a sum starts at 2<sup>21</sup> (rounding) and is shifted right by 22, then clamped to 0..255;</li>
 *   <li>the horizontal pass runs first and is stored as 8-bit, then the vertical pass reads that;
 *       an axis whose size does not change is not resampled at all.</li>
 * </ul>
 */
final class PilBilinear {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PilBilinear() {
    }

    static RgbImage resize(RgbImage img, int outW, int outH) {
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("resize target must be positive, got " + outW + "x" + outH);
        }
        RgbImage out = img;
        if (outW != img.width()) {
            out = horizontal(out, Coefficients.of(img.width(), outW));
        }
        if (outH != img.height()) {
            out = vertical(out, Coefficients.of(img.height(), outH));
        }
        return out;
    }

    private static RgbImage horizontal(RgbImage in, Coefficients k) {
        int outW = k.first.length;
        int[] out = new int[outW * in.height()];
        for (int y = 0; y < in.height(); y++) {
            int row = y * in.width();
            for (int x = 0; x < outW; x++) {
                int[] w = k.weight[x];
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                for (int j = 0; j < w.length; j++) {
                    int p = in.rgb()[row + k.first[x] + j];
                    r += (p >>> 16 & 0xFF) * w[j];
                    g += (p >>> 8 & 0xFF) * w[j];
                    b += (p & 0xFF) * w[j];
                }
                out[y * outW + x] = pack(r, g, b);
            }
        }
        return new RgbImage(outW, in.height(), out);
    }

    private static RgbImage vertical(RgbImage in, Coefficients k) {
        int outH = k.first.length;
        int w0 = in.width();
        int[] out = new int[w0 * outH];
        for (int y = 0; y < outH; y++) {
            int[] w = k.weight[y];
            for (int x = 0; x < w0; x++) {
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                for (int j = 0; j < w.length; j++) {
                    int p = in.rgb()[(k.first[y] + j) * w0 + x];
                    r += (p >>> 16 & 0xFF) * w[j];
                    g += (p >>> 8 & 0xFF) * w[j];
                    b += (p & 0xFF) * w[j];
                }
                out[y * w0 + x] = pack(r, g, b);
            }
        }
        return new RgbImage(w0, outH, out);
    }

    private static int pack(int r, int g, int b) {
        return clip8(r) << 16 | clip8(g) << 8 | clip8(b);
    }

    private static int clip8(int sum) {
        return Math.clamp(sum >> PRECISION_BITS, 0, 255);
    }

    /** Per output index: the first contributing input index and the fixed-point weights. */
    record Coefficients(int[] first, int[][] weight, double[][] exact) {
        static Coefficients of(int in, int out) {
            double scale = (double) in / out;
            double filterscale = Math.max(scale, 1.0);
            double support = filterscale; // the triangle's support is 1
            double ss = 1.0 / filterscale; // PIL multiplies by the reciprocal; the last bits can differ from a division
            int[] first = new int[out];
            int[][] weight = new int[out][];
            double[][] exact = new double[out][];
            for (int i = 0; i < out; i++) {
                double center = (i + 0.5) * scale;
                int lo = Math.max((int) (center - support + 0.5), 0);   // (int) truncates, as C does
                int hi = Math.min((int) (center + support + 0.5), in);
                double[] w = new double[Math.max(hi - lo, 0)];
                double sum = 0;
                for (int j = 0; j < w.length; j++) {
                    w[j] = triangle((j + lo - center + 0.5) * ss);
                    sum += w[j];
                }
                int[] fixed = new int[w.length];
                for (int j = 0; j < w.length; j++) {
                    if (sum != 0) {
                        w[j] /= sum;
                    }
                    fixed[j] = (int) (w[j] < 0 ? -0.5 + w[j] * (1 << PRECISION_BITS) : 0.5 + w[j] * (1 << PRECISION_BITS));
                }
                first[i] = lo;
                weight[i] = fixed;
                exact[i] = w;
            }
            return new Coefficients(first, weight, exact);
        }
    }

    private static double triangle(double x) {
        double a = Math.abs(x);
        return a < 1 ? 1 - a : 0;
    }
}
