package sdj.train.data;

/**
 * The EXIF Orientation tag (0x0112) of a JPEG, and the transform that shows the image upright, as
 * PIL's {@code ImageOps.exif_transpose} (which the diffusers DreamBooth dataset calls) applies it.
 *
 * <p>The tag is read from the first APP1 segment that starts with {@code "Exif\0\0"}: a TIFF header
 * ("II" little- or "MM" big-endian, 42, offset of IFD0), then IFD0's 12-byte entries. Anything
 * missing, malformed or out of range means "no orientation" (1), as PIL treats it.
 */
final class ExifOrientation {
    private static final int ORIENTATION_TAG = 0x0112;

    private ExifOrientation() {
    }

    /** The orientation 1..8 stored in a JPEG's bytes; 1 when there is none or the file is not a JPEG. */
    static int read(byte[] jpeg) {
        if (jpeg.length < 4 || u8(jpeg, 0) != 0xFF || u8(jpeg, 1) != 0xD8) {
            return 1;
        }
        int pos = 2;
        while (pos + 4 <= jpeg.length && u8(jpeg, pos) == 0xFF) {
            int marker = u8(jpeg, pos + 1);
            if (marker == 0xFF) { // fill byte before a marker
                pos++;
                continue;
            }
            if (marker == 0xD9 || marker == 0xDA) { // end of image, start of scan: no more metadata
                return 1;
            }
            int length = u16(jpeg, pos + 2, false);
            int body = pos + 4;
            if (length < 2 || body + length - 2 > jpeg.length) {
                return 1;
            }
            if (marker == 0xE1 && length >= 8 && startsWithExif(jpeg, body)) {
                return fromTiff(jpeg, body + 6, body + length - 2);
            }
            pos = body + length - 2;
        }
        return 1;
    }

    private static boolean startsWithExif(byte[] b, int at) {
        return b[at] == 'E' && b[at + 1] == 'x' && b[at + 2] == 'i' && b[at + 3] == 'f' && b[at + 4] == 0
                && b[at + 5] == 0;
    }

    /** Orientation from a TIFF structure occupying [start, end) of b (offsets are relative to start). */
    private static int fromTiff(byte[] b, int start, int end) {
        if (end - start < 8) {
            return 1;
        }
        boolean little;
        if (b[start] == 'I' && b[start + 1] == 'I') {
            little = true;
        } else if (b[start] == 'M' && b[start + 1] == 'M') {
            little = false;
        } else {
            return 1;
        }
        if (u16(b, start + 2, little) != 42) {
            return 1;
        }
        long ifd = u32(b, start + 4, little);
        if (ifd < 8 || start + ifd + 2 > end) {
            return 1;
        }
        int at = (int) (start + ifd);
        int entries = u16(b, at, little);
        for (int e = 0; e < entries; e++) {
            int entry = at + 2 + 12 * e;
            if (entry + 12 > end) {
                return 1;
            }
            if (u16(b, entry, little) == ORIENTATION_TAG) {
                int type = u16(b, entry + 2, little);
                // SHORT (3) as the standard says; a few writers use LONG (4)
                int value = type == 4 ? (int) u32(b, entry + 8, little) : u16(b, entry + 8, little);
                return value >= 1 && value <= 8 ? value : 1;
            }
        }
        return 1;
    }

    /**
     * The upright image for an orientation (PIL's method per value): 2 mirror left-right,
     * 3 rotate 180°, 4 mirror top-bottom, 5 transpose (swap x and y), 6 rotate 90° clockwise,
     * 7 transverse (mirror across the anti-diagonal), 8 rotate 90° counter-clockwise.
     */
    static RgbImage apply(RgbImage in, int orientation) {
        if (orientation == 1) {
            return in;
        }
        int w = in.width();
        int h = in.height();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        int[] out = new int[w * h];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                // (sx, sy): the source pixel that lands at (x, y)
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    case 8 -> { sx = w - 1 - y; sy = x; }
                    default -> throw new IllegalArgumentException("EXIF orientation must be 1..8, got " + orientation);
                }
                out[y * ow + x] = in.get(sx, sy);
            }
        }
        return new RgbImage(ow, oh, out);
    }

    private static int u8(byte[] b, int i) {
        return b[i] & 0xFF;
    }

    private static int u16(byte[] b, int i, boolean little) {
        return little ? u8(b, i) | u8(b, i + 1) << 8 : u8(b, i) << 8 | u8(b, i + 1);
    }

    private static long u32(byte[] b, int i, boolean little) {
        long v = little ? u16(b, i, true) | (long) u16(b, i + 2, true) << 16
                : (long) u16(b, i, false) << 16 | u16(b, i + 2, false);
        return v & 0xFFFFFFFFL;
    }
}
