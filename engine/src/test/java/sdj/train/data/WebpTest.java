package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WebP through the TwelveMonkeys ImageIO plugin. */
class WebpTest {
    /**
     * A 3×2 lossless WebP made with libwebp's {@code cwebp -lossless -exact} from a PNG with the pixels
     * red, green, blue / (10,20,30), (200,150,100), white; {@code dwebp} decodes it to the same bytes.
     */
    private static final String LOSSLESS_3X2 =
            "UklGRkIAAABXRUJQVlA4TDUAAAAvAkAAAC9AkG2zQVz44tMgk7bJX/92Zm0E2TYbyW3ub7T5DzTySNZ8BwIByljxwDYR/Y/xAgA=";

    @TempDir
    Path dir;

    @Test
    void thePluginIsRegisteredForWebp() {
        Iterator<ImageReader> readers = ImageIO.getImageReadersBySuffix("webp");
        assertTrue(readers.hasNext(), "no ImageIO reader for .webp");
    }

    @Test
    void aLosslessWebpDecodesToItsPixels() throws Exception {
        Path f = Files.write(dir.resolve("tiny.webp"), Base64.getDecoder().decode(LOSSLESS_3X2));
        RgbImage img = ImageFiles.decode(f, "fix it");
        assertArrayEquals(new int[] {0xFF0000, 0x00FF00, 0x0000FF, 0x0A141E, 0xC89664, 0xFFFFFF}, img.rgb());
    }
}
