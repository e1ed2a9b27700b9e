package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * PIL's anti-aliased bilinear resize. The small cases are worked out by hand below; the larger ones
 * are what Pillow 9.4 ({@code Image.resize(size, Image.BILINEAR)}) returned for the same pixels.
 */
class PilBilinearTest {
    private static int rgb(int r, int g, int b) {
        return r << 16 | g << 8 | b;
    }

    @Test
    void shrinkingFourToTwoWeighsThreeInputsWithTheStretchedTriangle() {
        // scale 2, support 2. Output 0: centre 1.0, inputs 0..2 at distances 0.5, 0.5, 1.5 → tri(d/2) =
        // 0.75, 0.75, 0.25 → 3/7, 3/7, 1/7. Output 1: centre 3.0, inputs 1..3 → 1/7, 3/7, 3/7.
        PilBilinear.Coefficients k = PilBilinear.Coefficients.of(4, 2);
        assertArrayEquals(new int[] {0, 1}, k.first());
        assertArrayEquals(new double[] {3 / 7.0, 3 / 7.0, 1 / 7.0}, k.exact()[0], 1e-15);
        assertArrayEquals(new double[] {1 / 7.0, 3 / 7.0, 3 / 7.0}, k.exact()[1], 1e-15);

        RgbImage in = new RgbImage(4, 1, new int[] {rgb(10, 0, 255), rgb(20, 100, 255), rgb(200, 50, 0), rgb(255, 7, 0)});
        // R: (3·10 + 3·20 + 200)/7 = 41.43 → 41, (20 + 3·200 + 3·255)/7 = 197.86 → 198
        // G: (0 + 300 + 50)/7 = 50, (100 + 150 + 21)/7 = 38.71 → 39
        // B: (765 + 765 + 0)/7 = 218.57 → 219, (255 + 0 + 0)/7 = 36.43 → 36   (Pillow agrees)
        RgbImage out = PilBilinear.resize(in, 2, 1);
        assertArrayEquals(new int[] {rgb(41, 50, 219), rgb(198, 39, 36)}, out.rgb());
    }

    @Test
    void threeByThreeToTwoByTwoRoundsTheHorizontalPassToBytes() {
        // scale 1.5, support 1.5. Output 0: centre 0.75, inputs 0..1 at distances 0.25, 0.75 → tri(d/1.5)
        // = 5/6, 1/2 → 5/8, 3/8; output 1: centre 2.25, inputs 1..2 → 3/8, 5/8.
        PilBilinear.Coefficients k = PilBilinear.Coefficients.of(3, 2);
        assertArrayEquals(new double[] {5 / 8.0, 3 / 8.0}, k.exact()[0], 1e-15);
        assertArrayEquals(new double[] {3 / 8.0, 5 / 8.0}, k.exact()[1], 1e-15);
        int[][] v = {{0, 100, 200}, {40, 80, 255}, {255, 0, 30}};
        int[] px = new int[9];
        for (int i = 0; i < 9; i++) {
            int g = v[i / 3][i % 3];
            px[i] = rgb(g, g, g);
        }
        // horizontal, rounded half up: row 0: 37.5 → 38, 162.5 → 163; row 1: 55, 189.375 → 189;
        // row 2: 159.375 → 159, 18.75 → 19. Vertical: column 0: 38·5/8 + 55·3/8 = 44.375 → 44,
        // 55·3/8 + 159·5/8 = 120; column 1: 163·5/8 + 189·3/8 = 172.75 → 173, 189·3/8 + 19·5/8 = 82.75 → 83.
        RgbImage out = PilBilinear.resize(new RgbImage(3, 3, px), 2, 2);
        assertArrayEquals(new int[] {rgb(44, 44, 44), rgb(173, 173, 173), rgb(120, 120, 120), rgb(83, 83, 83)},
                out.rgb());
    }

    @Test
    void enlargingIsPlainBilinearInterpolationWithOnePixelSupport() {
        // 2 → 4: scale 0.5, filterscale 1. Output 1: centre 0.75, inputs 0..1 at distances 0.25, 0.75
        // → 0.75, 0.25 (only neighbours count).
        PilBilinear.Coefficients k = PilBilinear.Coefficients.of(2, 4);
        assertArrayEquals(new double[] {0.75, 0.25}, k.exact()[1], 1e-15);
        assertEquals(0, k.first()[1]);
    }

    private static RgbImage formulaImage() {
        int[] px = new int[6 * 4];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 6; x++) {
                px[y * 6 + x] = rgb((x * 37 + y * 91) % 256, (x * x * 13 + y * 7 + 5) % 256, (x * y * 29 + 3 * y + 11) % 256);
            }
        }
        return new RgbImage(6, 4, px);
    }

    @Test
    void matchesPillowShrinkingBothAxes() {
        assertArrayEquals(new int[] {rgb(41, 12, 15), rgb(93, 53, 27), rgb(146, 147, 40), rgb(150, 128, 52),
                rgb(151, 21, 32), rgb(117, 62, 93), rgb(128, 156, 156), rgb(100, 137, 137), rgb(80, 29, 49),
                rgb(81, 70, 138), rgb(109, 164, 112), rgb(161, 145, 154)},
                PilBilinear.resize(formulaImage(), 4, 3).rgb());
    }

    @Test
    void matchesPillowShrinkingOneAxisAndEnlargingTheOther() {
        assertArrayEquals(new int[] {rgb(46, 38, 11), rgb(139, 136, 11), rgb(79, 41, 25), rgb(149, 139, 51),
                rgb(131, 45, 47), rgb(164, 143, 115), rgb(135, 49, 70), rgb(116, 147, 147), rgb(127, 52, 90),
                rgb(71, 150, 168), rgb(88, 56, 94), rgb(123, 154, 140), rgb(63, 59, 97), rgb(156, 157, 122)},
                PilBilinear.resize(formulaImage(), 2, 7).rgb());
    }

    @Test
    void matchesPillowEnlarging() {
        int[] out = PilBilinear.resize(formulaImage(), 9, 5).rgb();
        assertEquals(45, out.length);
        assertArrayEquals(new int[] {rgb(0, 5, 11), rgb(19, 12, 11), rgb(43, 25, 11), rgb(68, 50, 11), rgb(93, 90, 11),
                rgb(117, 137, 11), rgb(142, 198, 11), rgb(167, 144, 11), rgb(185, 74, 11)},
                java.util.Arrays.copyOfRange(out, 0, 9));
        assertArrayEquals(new int[] {rgb(17, 26, 20), rgb(36, 33, 64), rgb(60, 46, 122), rgb(85, 71, 179),
                rgb(110, 111, 110), rgb(134, 158, 40), rgb(159, 219, 97), rgb(184, 165, 156), rgb(202, 95, 199)},
                java.util.Arrays.copyOfRange(out, 36, 45));
        assertEquals(rgb(151, 209, 182), out[24]);
    }

    @Test
    void anUnchangedAxisIsNotResampled() {
        RgbImage in = formulaImage();
        assertArrayEquals(in.rgb(), PilBilinear.resize(in, 6, 4).rgb());
    }
}
