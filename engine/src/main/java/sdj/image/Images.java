package sdj.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageInputStream;
import sdj.tensor.Tensor;

/**
 * Moving between image files, {@link BufferedImage}s and the tensors the pipelines use.
 *
 * <p>Conventions (CompVis / diffusers): image tensors are {@code [B,3,H,W]} fp32 in [−1, 1], RGB
 * order, alpha ignored. Every method returns a new {@code TYPE_INT_RGB} image and never alters its input.
 */
public final class Images {
    private Images() {
    }

    /**
     * Reads a PNG, JPEG, BMP, GIF (first frame) or WebP (TwelveMonkeys plugin) with ImageIO as an RGB
     * image. Failures are one sentence naming the file: missing, unreadable, corrupt, or a format
     * ImageIO lacks (WebP where the plugin is not on the class path).
     */
    public static BufferedImage load(Path file) throws IOException {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) {
                throw new IOException("Image " + file + " is a directory, not an image file.");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException("Image file " + file + " does not exist.", e);
        } catch (AccessDeniedException e) {
            throw new IOException("Image file " + file + " cannot be read (permission denied).", e);
        }
        BufferedImage img;
        try {
            img = ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes)));
        } catch (IOException | RuntimeException e) {
            String detail = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new IOException("Image file " + file + " is corrupt or truncated (" + detail + ").", e);
        }
        if (img == null) {
            if (isWebp(bytes)) {
                throw new IOException("Image file " + file
                        + " is WebP, and webp is not supported by this JVM's ImageIO; convert to PNG.");
            }
            throw new IOException("Image file " + file
                    + " is not an image format this JVM's ImageIO can read (PNG, JPEG, BMP, GIF or WebP).");
        }
        return RgbPixels.image(RgbPixels.of(img), img.getWidth(), img.getHeight());
    }

    private static boolean isWebp(byte[] b) {
        return b.length >= 12 && new String(b, 0, 4, StandardCharsets.ISO_8859_1).equals("RIFF")
                && new String(b, 8, 4, StandardCharsets.ISO_8859_1).equals("WEBP");
    }

    /**
     * {@code [1,3,H,W]} with value v/127.5 − 1 per 8-bit channel (255 → 1, 0 → −1). In fp32 this is
     * bit-identical to CompVis's {@code 2 * (v / 255) - 1}, since doubling commutes with rounding.
     */
    public static Tensor toTensor(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = RgbPixels.of(img);
        float[] out = new float[3 * w * h];
        int plane = w * h;
        for (int i = 0; i < plane; i++) {
            int p = rgb[i];
            out[i] = (p >>> 16 & 0xFF) / 127.5f - 1f;
            out[plane + i] = (p >>> 8 & 0xFF) / 127.5f - 1f;
            out[2 * plane + i] = (p & 0xFF) / 127.5f - 1f;
        }
        return Tensor.of(out, 1, 3, h, w);
    }

    /**
     * Image {@code index} of a {@code [B,3,H,W]} tensor, converted exactly as CompVis txt2img does:
     * {@code clamp((x + 1) / 2, 0, 1)}, then {@code 255. * ...} in fp32 and {@code astype(np.uint8)},
     * which <em>truncates</em> rather than rounds: 0 → 127 (from 127.5), −1 → 0, 1 → 255. NaN → 0.
     */
    public static BufferedImage fromTensor(Tensor t, int index) {
        int[] s = t.shape();
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("expected an image tensor [B,3,H,W], got " + java.util.Arrays.toString(s));
        }
        if (index < 0 || index >= s[0]) {
            throw new IllegalArgumentException("image index " + index + " is outside a batch of " + s[0]);
        }
        int h = s[2];
        int w = s[3];
        int plane = w * h;
        float[] x = t.narrow(0, index, 1).toFloatArray();
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = toByte(x[i]) << 16 | toByte(x[plane + i]) << 8 | toByte(x[2 * plane + i]);
        }
        return RgbPixels.image(rgb, w, h);
    }

    private static int toByte(float x) {
        float v = (x + 1f) / 2f;
        if (!(v > 0f)) {
            return 0; // also NaN, where numpy's cast is undefined
        }
        return (int) (255f * Math.min(v, 1f));
    }

    /** Resamples to {@code width x height} with a Lanczos-3 filter (anti-aliased when shrinking). */
    public static BufferedImage resize(BufferedImage img, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("resize target must be positive, got " + width + "x" + height);
        }
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = RgbPixels.of(img);
        float[] planes = new float[3 * w * h];
        for (int i = 0; i < rgb.length; i++) {
            planes[i] = rgb[i] >>> 16 & 0xFF;
            planes[rgb.length + i] = rgb[i] >>> 8 & 0xFF;
            planes[2 * rgb.length + i] = rgb[i] & 0xFF;
        }
        float[] r = Resampler.resample(planes, 3, w, h, width, height, Resampler.Filter.LANCZOS3);
        int n = width * height;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = clampByte(r[i]) << 16 | clampByte(r[n + i]) << 8 | clampByte(r[2 * n + i]);
        }
        return RgbPixels.image(out, width, height);
    }

    /** Lanczos overshoots near edges, so round and clamp to a byte. */
    private static int clampByte(float v) {
        return Math.clamp(Math.round(v), 0, 255);
    }

    /**
     * The central {@code width x height} region. An odd surplus leaves the extra pixel on the
     * right/bottom (left = (W − width) / 2, rounded down).
     */
    public static BufferedImage centerCrop(BufferedImage img, int width, int height) {
        int w = img.getWidth();
        int h = img.getHeight();
        if (width <= 0 || height <= 0 || width > w || height > h) {
            throw new IllegalArgumentException("cannot crop " + width + "x" + height + " out of a " + w + "x" + h
                    + " image");
        }
        int[] rgb = RgbPixels.of(img);
        int left = (w - width) / 2;
        int top = (h - height) / 2;
        int[] out = new int[width * height];
        for (int y = 0; y < height; y++) {
            System.arraycopy(rgb, (top + y) * w + left, out, y * width, width);
        }
        return RgbPixels.image(out, width, height);
    }

    /**
     * The training-data convention: scale so the shorter side is {@code size} (longer side
     * {@code floor(size * long / short)}, as torchvision's Resize), then center-crop to size x size.
     */
    public static BufferedImage resizeAndCenterCrop(BufferedImage img, int size) {
        int w = img.getWidth();
        int h = img.getHeight();
        int nw = w <= h ? size : (int) ((long) size * w / h);
        int nh = w <= h ? (int) ((long) size * h / w) : size;
        return centerCrop(resize(img, nw, nh), size, size);
    }

    /** Mirror image (left ↔ right), the usual training augmentation. */
    public static BufferedImage flipHorizontal(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = RgbPixels.of(img);
        int[] out = new int[rgb.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                out[y * w + x] = rgb[y * w + (w - 1 - x)];
            }
        }
        return RgbPixels.image(out, w, h);
    }

    /**
     * An inpainting mask as a latent-sized {@code [1,1,latentH,latentW]} tensor of 0/1.
     * Convention (CompVis inpainting, AUTOMATIC1111): <b>white = repaint (1), black = keep (0)</b>.
     * The mask's luma (ITU-R 601, as PIL's {@code convert("L")}) / 255 is area-averaged down to
     * latent size, then thresholded: average ≥ 0.5 → 1, else 0, as CompVis's {@code mask >= 0.5}.
     */
    public static Tensor maskToLatentMask(BufferedImage mask, int latentH, int latentW) {
        if (latentH <= 0 || latentW <= 0) {
            throw new IllegalArgumentException("latent mask size must be positive, got " + latentH + "x" + latentW);
        }
        int w = mask.getWidth();
        int h = mask.getHeight();
        int[] rgb = RgbPixels.of(mask);
        float[] luma = new float[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            int p = rgb[i];
            luma[i] = (float) ((0.299 * (p >>> 16 & 0xFF) + 0.587 * (p >>> 8 & 0xFF) + 0.114 * (p & 0xFF)) / 255.0);
        }
        float[] avg = Resampler.resample(luma, 1, w, h, latentW, latentH, Resampler.Filter.AREA);
        for (int i = 0; i < avg.length; i++) {
            avg[i] = avg[i] >= 0.5f ? 1f : 0f;
        }
        return Tensor.of(avg, 1, 1, latentH, latentW);
    }
}
