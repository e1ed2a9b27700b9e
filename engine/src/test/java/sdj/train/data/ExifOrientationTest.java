package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JPEGs written with ImageIO, with an EXIF APP1 segment spliced in by hand after SOI. The stored image
 * is 48×32 in six 16×16 blocks of distinct colours (16-pixel blocks survive 4:2:0 chroma subsampling):
 * <pre>
 *   red    green  blue
 *   white  black  yellow
 * </pre>
 */
class ExifOrientationTest {
    private static final int RED = 0xFF0000;
    private static final int GREEN = 0x00FF00;
    private static final int BLUE = 0x0000FF;
    private static final int WHITE = 0xFFFFFF;
    private static final int BLACK = 0x000000;
    private static final int YELLOW = 0xFFFF00;
    private static final int[][] BLOCKS = {{RED, GREEN, BLUE}, {WHITE, BLACK, YELLOW}};

    @TempDir
    Path dir;

    private static byte[] jpeg() {
        return TestImages.encode(TestImages.image(48, 32, (x, y) -> BLOCKS[y / 16][x / 16]), "jpg");
    }

    /** SOI, then APP1 "Exif\0\0" + a TIFF header and IFD0 with the single Orientation entry, then the rest. */
    static byte[] withOrientation(byte[] jpeg, int orientation, boolean littleEndian) {
        byte[] tiff = littleEndian
                ? new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte) orientation, 0, 0, 0,
                        0, 0, 0, 0}
                : new byte[] {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) orientation, 0, 0,
                        0, 0, 0, 0};
        int length = 2 + 6 + tiff.length;
        byte[] out = new byte[jpeg.length + 2 + length];
        out[0] = (byte) 0xFF;
        out[1] = (byte) 0xD8;
        out[2] = (byte) 0xFF;
        out[3] = (byte) 0xE1;
        out[4] = (byte) (length >> 8);
        out[5] = (byte) length;
        System.arraycopy(new byte[] {'E', 'x', 'i', 'f', 0, 0}, 0, out, 6, 6);
        System.arraycopy(tiff, 0, out, 12, tiff.length);
        System.arraycopy(jpeg, 2, out, 12 + tiff.length, jpeg.length - 2);
        return out;
    }

    private RgbImage decode(int orientation, boolean littleEndian) throws Exception {
        Path f = dir.resolve("o" + orientation + (littleEndian ? "le" : "be") + ".jpg");
        Files.write(f, withOrientation(jpeg(), orientation, littleEndian));
        return ImageFiles.decode(f, "fix it");
    }

    /** Asserts the colour at the centre of each 16×16 block of the decoded image, row by row. */
    private static void assertBlocks(int[][] expected, RgbImage img) {
        assertEquals(16 * expected[0].length, img.width());
        assertEquals(16 * expected.length, img.height());
        for (int by = 0; by < expected.length; by++) {
            for (int bx = 0; bx < expected[0].length; bx++) {
                int got = img.get(bx * 16 + 8, by * 16 + 8);
                int want = expected[by][bx];
                for (int shift = 0; shift <= 16; shift += 8) {
                    int d = Math.abs((got >> shift & 0xFF) - (want >> shift & 0xFF));
                    assertTrue(d <= 24, String.format("block (%d,%d): got %06x, want %06x", bx, by, got, want));
                }
            }
        }
    }

    @Test
    void withoutExifTheImageIsAsStored() throws Exception {
        Path f = dir.resolve("plain.jpg");
        Files.write(f, jpeg());
        assertEquals(1, ExifOrientation.read(Files.readAllBytes(f)));
        assertBlocks(BLOCKS, ImageFiles.decode(f, "fix it"));
    }

    @Test
    void orientationSixIsRotatedClockwise() throws Exception {
        // the stored left column (red over white) becomes the top row, read right to left
        int[][] upright = {{WHITE, RED}, {BLACK, GREEN}, {YELLOW, BLUE}};
        assertBlocks(upright, decode(6, false));
        assertBlocks(upright, decode(6, true));
    }

    @Test
    void orientationThreeIsRotatedHalfATurn() throws Exception {
        assertBlocks(new int[][] {{YELLOW, BLACK, WHITE}, {BLUE, GREEN, RED}}, decode(3, false));
    }

    @Test
    void orientationEightIsRotatedCounterClockwise() throws Exception {
        // the stored right column (blue over yellow) becomes the top row
        assertBlocks(new int[][] {{BLUE, YELLOW}, {GREEN, BLACK}, {RED, WHITE}}, decode(8, true));
    }

    @Test
    void theMirroredOrientationsFlipAndTranspose() throws Exception {
        assertBlocks(new int[][] {{BLUE, GREEN, RED}, {YELLOW, BLACK, WHITE}}, decode(2, false));
        assertBlocks(new int[][] {{WHITE, BLACK, YELLOW}, {RED, GREEN, BLUE}}, decode(4, false));
        assertBlocks(new int[][] {{RED, WHITE}, {GREEN, BLACK}, {BLUE, YELLOW}}, decode(5, false));
        assertBlocks(new int[][] {{YELLOW, BLUE}, {BLACK, GREEN}, {WHITE, RED}}, decode(7, false));
    }

    @Test
    void aMalformedOrOutOfRangeTagMeansUpright() {
        byte[] j = jpeg();
        assertEquals(1, ExifOrientation.read(withOrientation(j, 9, false)));
        byte[] broken = withOrientation(j, 6, false);
        broken[12] = 'X'; // not a TIFF byte order
        assertEquals(1, ExifOrientation.read(broken));
        assertEquals(6, ExifOrientation.read(withOrientation(j, 6, false)));
    }
}
