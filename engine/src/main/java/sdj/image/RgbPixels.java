package sdj.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;

/**
 * Packed {@code 0xRRGGBB} pixels of any BufferedImage, alpha dropped (as PIL's {@code convert("RGB")}).
 *
 * <p>Grey images are read from the raster, not through {@code getRGB}: Java tags ImageIO's grey
 * images with a linear-light colour space, so {@code getRGB} would brighten a stored 128 to about
 * 186. Grey value v becomes (v, v, v), which is what PIL and every image viewer do.
 */
final class RgbPixels {
    private RgbPixels() {
    }

    static int[] of(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        ColorModel cm = img.getColorModel();
        if (cm instanceof ComponentColorModel && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            Raster r = img.getRaster();
            int max = (1 << cm.getComponentSize(0)) - 1;
            int[] out = new int[w * h];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = (int) Math.round(r.getSample(x, y, 0) * 255.0 / max);
                    out[y * w + x] = v << 16 | v << 8 | v;
                }
            }
            return out;
        }
        int[] out = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < out.length; i++) {
            out[i] &= 0xFFFFFF;
        }
        return out;
    }

    static BufferedImage image(int[] rgb, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }
}
