package sdj.shapes;

import java.util.Random;

/** The soft, noisy look of a small diffusion model's output: a 3x3 box blur and Gaussian noise. */
final class Degrade {
    private Degrade() {
    }

    static int[] boxBlur3(int[] rgb, int w, int h) {
        int[] out = new int[rgb.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int[] sum = new int[3];
                int n = 0;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = Math.clamp(x + dx, 0, w - 1);
                        int yy = Math.clamp(y + dy, 0, h - 1);
                        int p = rgb[yy * w + xx];
                        sum[0] += p >> 16 & 0xFF;
                        sum[1] += p >> 8 & 0xFF;
                        sum[2] += p & 0xFF;
                        n++;
                    }
                }
                out[y * w + x] = Math.round(sum[0] / (float) n) << 16 | Math.round(sum[1] / (float) n) << 8
                        | Math.round(sum[2] / (float) n);
            }
        }
        return out;
    }

    /** Adds independent Gaussian noise of {@code sigma} (in 0..255 units) to every channel, clamped. */
    static int[] noisy(int[] rgb, double sigma, Random random) {
        int[] out = new int[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            int p = 0;
            for (int shift = 16; shift >= 0; shift -= 8) {
                int c = (int) Math.round((rgb[i] >> shift & 0xFF) + sigma * random.nextGaussian());
                p |= Math.clamp(c, 0, 255) << shift;
            }
            out[i] = p;
        }
        return out;
    }

    /** Moves every channel of the whole image by one offset in [-maxShift, maxShift], clamped. */
    static int[] shifted(int[] rgb, int maxShift, Random random) {
        int[] offset = new int[3];
        for (int c = 0; c < 3; c++) {
            offset[c] = random.nextInt(2 * maxShift + 1) - maxShift;
        }
        int[] out = new int[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            int p = 0;
            for (int c = 0; c < 3; c++) {
                int shift = 16 - 8 * c;
                p |= Math.clamp((rgb[i] >> shift & 0xFF) + offset[c], 0, 255) << shift;
            }
            out[i] = p;
        }
        return out;
    }
}
