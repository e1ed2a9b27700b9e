package sdj.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import sdj.image.Images;

/**
 * Decodes a training image to upright RGB: {@link Images#load} (ImageIO with the TwelveMonkeys WebP
 * and JPEG plugins; palette and grey images expanded, alpha dropped as PIL's {@code convert("RGB")}
 * does), then, for JPEGs, the EXIF orientation (PIL's {@code exif_transpose}).
 *
 * <p>Where this differs from PIL (none of it touches 8-bit RGB, grey or palette files): 16-bit
 * images are scaled to 8 bits (PIL clips 16-bit grey); CMYK/YCCK JPEGs are converted by TwelveMonkeys
 * with their ICC profile (PIL inverts the channels without one); EXIF orientation is read from JPEGs
 * only (PIL also reads it from PNG and WebP files that carry EXIF).
 */
final class ImageFiles {
    /** EXIF sits in an APP1 segment at the start of a JPEG, at most 64 KiB long. */
    private static final int EXIF_SEARCH_BYTES = 1 << 17;

    private ImageFiles() {
    }

    /** @param hint what the one-sentence error adds as the remedy, e.g. "replace or remove it" */
    static RgbImage decode(Path file, String hint) {
        RgbImage img;
        try {
            img = RgbImage.of(Images.load(file));
        } catch (IOException e) {
            String m = e.getMessage();
            throw new DataException((m.endsWith(".") ? m.substring(0, m.length() - 1) : m) + "; " + hint + ".", e);
        }
        return ExifOrientation.apply(img, ExifOrientation.read(head(file)));
    }

    private static byte[] head(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(EXIF_SEARCH_BYTES);
        } catch (IOException e) {
            return new byte[0]; // just decoded, so this only happens if the file vanished since: no orientation
        }
    }
}
