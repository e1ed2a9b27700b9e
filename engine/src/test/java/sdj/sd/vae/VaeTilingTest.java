package sdj.sd.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.random.TorchGenerator;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * Tiled VAE decode and encode of the sd-tiny model against the whole-image ones. A tile sees only its
 * neighbourhood: its GroupNorm statistics and the mid-block attention are the tile's, not the image's,
 * so tiling changes every pixel a little, not only at seams (the same holds for diffusers' and
 * sd.cpp's tiled decode). The tolerances are the errors measured here with about 20% margin; each is
 * far below the error of a tile misplaced by one latent (the "shift" control: whole vs whole moved by
 * one latent), so they catch placement and blending mistakes.
 */
class VaeTilingTest {
    private static AutoencoderKL vae;

    @BeforeAll
    static void load() throws Exception {
        var configs = ModelConfigFiles.read(Path.of("../models/sd-tiny.json"));
        vae = StableDiffusionModel.fromStateDict(StateDicts.load(TestData.sdTiny("model.ckpt")), configs, "sd-tiny").vae();
    }

    @Test
    void oneTileCoveringTheLatentIsExactlyTheWholeDecode() {
        Tensor z = TorchGenerator.batchNoise(3, 1, 4, 12, 16);
        try (var g = Autograd.noGrad()) {
            assertArrayEquals(vae.decode(z).toFloatArray(), vae.decodeTiled(z, new VaeTiling(16, 4)).toFloatArray());
        }
    }

    @Test
    void tiledDecodeStaysCloseToTheWholeDecode() {
        Tensor z = TorchGenerator.batchNoise(5, 1, 4, 28, 28);
        try (var g = Autograd.noGrad()) {
            float[] whole = vae.decode(z).toFloatArray();
            double shift = meanShiftDifference(whole, 3, 224, 8);
            // 16-latent tiles overlapping by 4: tiles at 0 and 12 on each axis (inner edges at 12 and 16 latents)
            Tensor tiled = vae.decodeTiled(z, new VaeTiling(16, 4));
            assertArrayEquals(new int[] {1, 3, 224, 224}, tiled.shape());
            float[] t = tiled.toFloatArray();
            Errors all = errors(whole, t, 3, 224, List.of(), 0);
            Errors away = errors(whole, t, 3, 224, List.of(96, 128), 16);
            String measured = String.format(Locale.ROOT, "mean %.4f (away from seams %.4f, max %.3f); mean |whole| %.4f, "
                    + "shift control %.4f", all.mean, away.mean, away.max, meanAbs(whole), shift);
            System.out.println("tiled decode: " + measured);
            assertTrue(all.mean <= 0.12 && away.mean <= 0.095 && all.mean < shift / 3, measured);
        }
    }

    @Test
    void tiledEncodeStaysCloseToTheWholeEncode() {
        Tensor image = TiledApplyTest.wave(1, 3, 256, 256).mul(0.8f);
        try (var g = Autograd.noGrad()) {
            float[] whole = vae.encodeMean(image).toFloatArray();
            // 128-pixel tiles overlapping by 32: tiles at 0, 96 and 128 pixels on each axis
            Tensor tiled = vae.encodeMeanTiled(image, new VaeTiling(16, 4));
            assertArrayEquals(new int[] {1, 4, 32, 32}, tiled.shape());
            Errors e = errors(whole, tiled.toFloatArray(), 4, 32, List.of(), 0);
            double shift = meanShiftDifference(whole, 4, 32, 1);
            String measured = String.format(Locale.ROOT, "mean %.4f, max %.3f; mean |whole| %.4f, shift control %.4f",
                    e.mean, e.max, meanAbs(whole), shift);
            System.out.println("tiled encode: " + measured);
            assertTrue(e.mean <= 0.06 && e.mean < shift / 3, measured);
        }
    }

    private record Errors(double mean, double max) {
    }

    /** |tiled − whole| over the positions at least {@code margin} away from every listed edge (on both axes). */
    private static Errors errors(float[] whole, float[] tiled, int channels, int side, List<Integer> edges, int margin) {
        double sum = 0;
        double max = 0;
        long n = 0;
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    if (near(y, edges, margin) || near(x, edges, margin)) {
                        continue;
                    }
                    int i = (c * side + y) * side + x;
                    double d = Math.abs(tiled[i] - whole[i]);
                    sum += d;
                    max = Math.max(max, d);
                    n++;
                }
            }
        }
        return new Errors(sum / n, max);
    }

    private static boolean near(int p, List<Integer> edges, int margin) {
        return edges.stream().anyMatch(e -> Math.abs(p - e) < margin);
    }

    /** Mean |whole − whole moved right by {@code shift}|: what a tile placed one latent off would show. */
    private static double meanShiftDifference(float[] whole, int channels, int side, int shift) {
        double sum = 0;
        long n = 0;
        for (int row = 0; row < channels * side; row++) {
            for (int x = shift; x < side; x++) {
                sum += Math.abs(whole[row * side + x] - whole[row * side + x - shift]);
                n++;
            }
        }
        return sum / n;
    }

    private static double meanAbs(float[] v) {
        double s = 0;
        for (float f : v) {
            s += Math.abs(f);
        }
        return s / v.length;
    }
}
