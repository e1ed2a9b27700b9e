package sdj.train.data;

import java.util.SplittableRandom;

/**
 * One image to training pixels, as diffusers' DreamBooth dataset: {@code Resize(size, BILINEAR)}
 * (shorter side to size, longer side floor(size·long/short), PIL's anti-aliased bilinear), then
 * {@code CenterCrop(size)} or {@code RandomCrop(size)}, then an optional left-right flip, then
 * float32(byte)/127.5 − 1 per channel as {@code [3, size, size]} RGB planes.
 */
final class Preprocess {
    private Preprocess() {
    }

    /** Writes the 3·size² pixels at {@code out[offset..]}; rng draws the crop (top, then left), then the flip. */
    static void pixels(RgbImage img, int size, boolean centerCrop, boolean flip, SplittableRandom rng, float[] out,
            int offset) {
        RgbImage square = cropToSquare(resizeShorterSide(img, size), size, centerCrop, rng);
        if (flip && rng.nextBoolean()) {
            square = square.flipHorizontal();
        }
        int plane = size * size;
        int[] rgb = square.rgb();
        for (int i = 0; i < plane; i++) {
            int p = rgb[i];
            out[offset + i] = (p >>> 16 & 0xFF) / 127.5f - 1f;
            out[offset + plane + i] = (p >>> 8 & 0xFF) / 127.5f - 1f;
            out[offset + 2 * plane + i] = (p & 0xFF) / 127.5f - 1f;
        }
    }

    /** torchvision's {@code Resize(int)}: no resampling when the shorter side already is size. */
    static RgbImage resizeShorterSide(RgbImage img, int size) {
        int w = img.width();
        int h = img.height();
        int nw = w <= h ? size : (int) ((long) size * w / h);
        int nh = w <= h ? (int) ((long) size * h / w) : size;
        return nw == w && nh == h ? img : PilBilinear.resize(img, nw, nh);
    }

    /**
     * torchvision's CenterCrop offsets are {@code int(round((W − size) / 2))} with Python's round half
     * to even, so an odd surplus of 1 gives 0 and of 3 gives 2; RandomCrop draws top then left
     * uniformly from 0..surplus.
     */
    static RgbImage cropToSquare(RgbImage img, int size, boolean center, SplittableRandom rng) {
        int dx = img.width() - size;
        int dy = img.height() - size;
        int top = center ? (int) Math.rint(dy / 2.0) : rng.nextInt(dy + 1);
        int left = center ? (int) Math.rint(dx / 2.0) : rng.nextInt(dx + 1);
        return img.crop(left, top, size, size);
    }
}
