package sdj.sd.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import sdj.ops.F;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** Tile placement, the blending ramps, and tiling of a local operation, which must reproduce it. */
class TiledApplyTest {

    @Test
    void tilesStepByTileMinusOverlapAndTheLastIsFlushWithTheEnd() {
        assertEquals(List.of(0), TiledApply.starts(64, 64, 16));
        assertEquals(List.of(0), TiledApply.starts(40, 64, 16));
        assertEquals(List.of(0, 48, 64), TiledApply.starts(128, 64, 16));
        assertEquals(List.of(0, 12, 24), TiledApply.starts(40, 16, 4));
        assertEquals(List.of(0, 448, 896, 1024), TiledApply.starts(1536, 512, 64));
    }

    @Test
    void rampsRiseLinearlyOnSharedEdgesOnly() {
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, TiledApply.ramps(6, 2, false, false));
        assertArrayEquals(new float[] {0.25f, 0.75f, 1, 1, 1, 1}, TiledApply.ramps(6, 2, true, false));
        assertArrayEquals(new float[] {0.25f, 0.75f, 1, 1, 0.75f, 0.25f}, TiledApply.ramps(6, 2, true, true));
        // two neighbours overlapping by exactly one ramp: their weights sum to 1 across the overlap
        float[] left = TiledApply.ramps(8, 4, false, true);
        float[] right = TiledApply.ramps(8, 4, true, false);
        for (int i = 0; i < 4; i++) {
            assertEquals(1f, left[4 + i] + right[i], 0f);
        }
    }

    @Test
    void overlapOfMoreThanHalfATileIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VaeTiling(16, 9));
        assertEquals("a VAE tile of 16 latents cannot overlap its neighbour by 9; use a positive tile size and an "
                + "overlap of at most half of it", e.getMessage());
    }

    /** A ×8 nearest upsample sees one latent at a time: tiled, it must give the whole result up to rounding. */
    @Test
    void pointwiseNetworkTiledEqualsWholeUpToRounding() {
        Tensor z = wave(2, 3, 40, 28);
        try (var g = Autograd.noGrad()) {
            float[] whole = upsample8(z).toFloatArray();
            Tensor tiled = TiledApply.apply(z, 16, 4, 8, 1, TiledApplyTest::upsample8);
            assertArrayEquals(new int[] {2, 3, 320, 224}, tiled.shape());
            assertArrayEquals(whole, tiled.toFloatArray(), 1e-6f);
        }
    }

    /**
     * A 3×3 convolution, then ×8: a pixel differs from the whole result only through tiles whose zero
     * padding it sees (within one latent of their edge), and those have ramp weights there; away from
     * every tile edge the tiled result equals the whole one up to rounding.
     */
    @Test
    void convolutionTiledEqualsWholeAwayFromTileEdges() {
        Tensor z = wave(1, 2, 40, 40);
        Tensor w = wave(2, 2, 3, 3);
        try (var g = Autograd.noGrad()) {
            float[] whole = F.conv2d(z, w, null, 1, 1).toFloatArray();
            float[] tiled = TiledApply.apply(z, 16, 4, 1, 1, t -> F.conv2d(t, w, null, 1, 1)).toFloatArray();
            List<Integer> starts = TiledApply.starts(40, 16, 4);
            int compared = 0;
            int differing = 0;
            for (int c = 0; c < 2; c++) {
                for (int y = 0; y < 40; y++) {
                    for (int x = 0; x < 40; x++) {
                        int i = (c * 40 + y) * 40 + x;
                        if (nearEdge(y, starts, 16, 40) || nearEdge(x, starts, 16, 40)) {
                            differing += Math.abs(tiled[i] - whole[i]) > 1e-5f ? 1 : 0;
                            continue;
                        }
                        assertEquals(whole[i], tiled[i], 1e-5f, "at " + c + "," + y + "," + x);
                        compared++;
                    }
                }
            }
            assertTrue(compared > 1500, "most positions are away from tile edges: " + compared);
            assertTrue(differing > 0, "the padding at inner tile edges does show in the blend");
        }
    }

    private static boolean nearEdge(int p, List<Integer> starts, int tile, int length) {
        for (int s : starts) {
            int e = s + tile;
            if ((s > 0 && Math.abs(p - s) <= 1) || (e < length && Math.abs(p - (e - 1)) <= 1)) {
                return true;
            }
        }
        return false;
    }

    private static Tensor upsample8(Tensor t) {
        return F.upsampleNearest2x(F.upsampleNearest2x(F.upsampleNearest2x(t)));
    }

    static Tensor wave(int b, int c, int h, int w) {
        float[] v = new float[b * c * h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(0.731 * i + 0.3 * Math.cos(0.17 * i));
        }
        return Tensor.of(v, b, c, h, w);
    }
}
