package sdj.train.data;

import java.util.SplittableRandom;

/**
 * adobe Custom Diffusion's instance-image augmentation ({@code finetune_data.py}, TRAINING-FACTS §1.4) on a square
 * image: with p = 2/3 a size s uniform in [size/3, size], else in [⌊1.2·size⌋, ⌊1.4·size⌋), made even. Zoomed out
 * (s < 0.6·size): the image shrunk to s×s on a zero (mid-grey) canvas centred at a random (cy, cx) ∈ [s/2, size − s/2],
 * caption prefix "a far away " or "very small ", and a latent mask of ones on the pasted block less one latent pixel
 * of margin. Zoomed in (s > size): the image grown to s×s, a size×size crop centred at a random point of
 * [size/2, s − size/2], prefix "zoomed in " or "close up ". Otherwise the image at size×size. Resizing is PIL's
 * anti-aliased bilinear (adobe uses bicubic). The result's mask is all ones except when zoomed out.
 */
final class ScaleAugment {
    static final int LATENT_FACTOR = 8;

    /** Pixels in [−1, 1] as [3, size, size] planes, the caption prefix ("" for none) and the latent mask. */
    record Result(float[] pixels, String prefix, float[] mask) {
    }

    private ScaleAugment() {
    }

    /** {@code square} at size×size with mask ones: what class images and --no-aug instance images get. */
    static Result plain(RgbImage square, int size) {
        float[] mask = new float[(size / LATENT_FACTOR) * (size / LATENT_FACTOR)];
        java.util.Arrays.fill(mask, 1f);
        return new Result(planes(resize(square, size), size, 0, 0, size), "", mask);
    }

    static Result apply(RgbImage square, int size, SplittableRandom rng) {
        int s = rng.nextInt(3) < 2 ? size / 3 + rng.nextInt(size - size / 3 + 1)
                : (int) (1.2 * size) + rng.nextInt((int) (1.4 * size) - (int) (1.2 * size));
        if (s % 2 == 1) {
            s++;
        }
        int latent = size / LATENT_FACTOR;
        float[] mask = new float[latent * latent];
        if (s < 0.6 * size) {
            String prefix = rng.nextBoolean() ? "a far away " : "very small ";
            int cy = s / 2 + rng.nextInt(size - s + 1);
            int cx = s / 2 + rng.nextInt(size - s + 1);
            float[] pixels = planes(resize(square, s), size, cy - s / 2, cx - s / 2, s); // canvas of zeros elsewhere
            for (int y = (cy - s / 2) / LATENT_FACTOR + 1; y < (cy + s / 2) / LATENT_FACTOR - 1; y++) {
                for (int x = (cx - s / 2) / LATENT_FACTOR + 1; x < (cx + s / 2) / LATENT_FACTOR - 1; x++) {
                    mask[y * latent + x] = 1f;
                }
            }
            return new Result(pixels, prefix, mask);
        }
        java.util.Arrays.fill(mask, 1f);
        if (s > size) {
            String prefix = rng.nextBoolean() ? "zoomed in " : "close up ";
            int cy = size / 2 + rng.nextInt(s - size + 1);
            int cx = size / 2 + rng.nextInt(s - size + 1);
            RgbImage crop = resize(square, s).crop(cx - size / 2, cy - size / 2, size, size);
            return new Result(planes(crop, size, 0, 0, size), prefix, mask);
        }
        return new Result(planes(resize(square, size), size, 0, 0, size), "", mask);
    }

    private static RgbImage resize(RgbImage img, int s) {
        return img.width() == s && img.height() == s ? img : PilBilinear.resize(img, s, s);
    }

    /** An s×s image placed at (top, left) of a size×size canvas of zeros, as float32(byte)/127.5 − 1 RGB planes. */
    private static float[] planes(RgbImage img, int size, int top, int left, int s) {
        int plane = size * size;
        float[] out = new float[3 * plane];
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                int p = img.get(x, y);
                int i = (top + y) * size + left + x;
                out[i] = (p >>> 16 & 0xFF) / 127.5f - 1f;
                out[plane + i] = (p >>> 8 & 0xFF) / 127.5f - 1f;
                out[2 * plane + i] = (p & 0xFF) / 127.5f - 1f;
            }
        }
        return out;
    }
}
