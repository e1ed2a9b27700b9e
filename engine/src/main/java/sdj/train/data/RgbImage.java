package sdj.train.data;

import java.awt.image.BufferedImage;

/**
 * An 8-bit RGB image as packed {@code 0xRRGGBB} ints, row-major. The data steps work on this
 * instead of BufferedImage so that every pixel operation is explicit and exact.
 */
record RgbImage(int width, int height, int[] rgb) {
    RgbImage {
        if (width <= 0 || height <= 0 || rgb.length != width * height) {
            throw new IllegalArgumentException("an RGB image needs width*height pixels, got " + rgb.length + " for "
                    + width + "x" + height);
        }
    }

    /** The RGB values of an image; alpha is dropped as is (PIL's {@code convert("RGB")}). */
    static RgbImage of(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] &= 0xFFFFFF;
        }
        return new RgbImage(w, h, rgb);
    }

    int get(int x, int y) {
        return rgb[y * width + x];
    }

    /** The {@code w x h} region whose top-left pixel is (left, top). */
    RgbImage crop(int left, int top, int w, int h) {
        if (left < 0 || top < 0 || w <= 0 || h <= 0 || left + w > width || top + h > height) {
            throw new IllegalArgumentException("cannot crop " + w + "x" + h + " at (" + left + ", " + top
                    + ") out of a " + width + "x" + height + " image");
        }
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            System.arraycopy(rgb, (top + y) * width + left, out, y * w, w);
        }
        return new RgbImage(w, h, out);
    }

    /** Mirror image: column x becomes column width − 1 − x. */
    RgbImage flipHorizontal() {
        int[] out = new int[rgb.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                out[y * width + x] = rgb[y * width + width - 1 - x];
            }
        }
        return new RgbImage(width, height, out);
    }
}
