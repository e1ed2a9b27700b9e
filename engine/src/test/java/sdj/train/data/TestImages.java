package sdj.train.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntBinaryOperator;
import javax.imageio.ImageIO;

/** Small image files for the data tests, written with ImageIO. */
final class TestImages {
    private TestImages() {
    }

    static BufferedImage image(int w, int h, IntBinaryOperator rgbAt) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgbAt.applyAsInt(x, y));
            }
        }
        return img;
    }

    /** The formula image of the Pillow cross-checks: R = 37x + 91y, G = 13x² + 7y + 5, B = 29xy + 3y + 11 (mod 256). */
    static int formula(int x, int y) {
        return (x * 37 + y * 91) % 256 << 16 | (x * x * 13 + y * 7 + 5) % 256 << 8 | (x * y * 29 + 3 * y + 11) % 256;
    }

    static Path png(Path file, BufferedImage img) {
        return write(file, img, "png");
    }

    static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static Path write(Path file, BufferedImage img, String format) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, encode(img, format));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A square of one colour. */
    static Path solid(Path file, int size, int rgb) {
        return png(file, image(size, size, (x, y) -> rgb));
    }
}
