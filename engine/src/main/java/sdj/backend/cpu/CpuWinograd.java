package sdj.backend.cpu;

import sdj.tensor.Tensor;

/**
 * 3×3, stride-1, pad-1 convolution by Winograd's F(m×m, 3×3) (see {@link WinogradTiles}): the output is
 * cut into m×m tiles; each tile's α×α input window is transformed (V = Bᵀ d B), every filter is
 * transformed (U = G g Gᵀ), and then for each of the α² tile positions ξ one GEMM
 * M_ξ[O × tiles] = U_ξ[O × C] · V_ξ[C × tiles] does all the channel sums; the output transform Aᵀ M A
 * turns each tile back into m×m pixels. α²/(9·m²) of direct convolution's multiplications.
 *
 * <p>The filters are transformed on every call (α²·O·C floats written, ~5–10% of the time on the layers where
 * Winograd is chosen, and what makes small images lose), so a weight updated in place by an optimizer step
 * needs no cache invalidation and no transformed copy of every weight is kept in memory; a layer whose U would
 * pass {@link #FILTER_FLOATS} is transformed and multiplied in blocks of output channels.
 *
 * <p>The tiles of all images are numbered together (image, tile row, tile column) and processed in
 * chunks, so the transformed inputs V and products M stay a few MB and the GEMMs stay wide.
 */
final class CpuWinograd {
    /** Floats of V (and of M) per chunk of tiles: 16 MB each, about what L3 can hold between the passes. */
    static final int CHUNK_FLOATS = 4 << 20;
    /** Fewest tiles in a chunk, so each GEMM spans many register panels even with 1280 channels. */
    static final int MIN_CHUNK_TILES = 384;

    private CpuWinograd() {
    }

    /**
     * y[n][o][h][w] = bias[o] + Σ_c Σ_ij x[n][c][h+i−1][w+j−1]·K(o, c, i, j), where K is the filter
     * {@code wt[o][c][i][j]} ({@code wt} of shape [O, C, 3, 3]) or, with {@code transposed}, the data gradient's
     * filter wt[c][o][2−i][2−j] ({@code wt} of shape [C, O, 3, 3]). The weight is read where it lives (a heap
     * array or a mapped checkpoint), never copied whole. Writes into a new array.
     */
    static float[] conv3x3(WinogradTiles f, float[] x, int n, int c, int h, int w, Tensor wt, int o,
            boolean transposed, float[] bias) {
        return conv3x3(f, x, n, c, h, w, wt, o, transposed, bias, 0);
    }

    /** As above, with at most {@code maxChunk} tiles per chunk when it is positive (tests cross chunk edges). */
    static float[] conv3x3(WinogradTiles f, float[] x, int n, int c, int h, int w, Tensor wt, int o,
            boolean transposed, float[] bias, int maxChunk) {
        return conv3x3(f, x, n, c, h, w, wt, o, transposed, bias, maxChunk, 0);
    }

    /**
     * As above, with at most {@code maxBlock} output channels per block of transformed filters when it is
     * positive (tests cross block edges).
     */
    static float[] conv3x3(WinogradTiles f, float[] x, int n, int c, int h, int w, Tensor wt, int o,
            boolean transposed, float[] bias, int maxChunk, int maxBlock) {
        int a2 = f.alpha * f.alpha;
        int tilesY = (h + f.m - 1) / f.m;
        int tilesX = (w + f.m - 1) / f.m;
        int tiles = n * tilesY * tilesX;
        int wide = Math.min(tiles, Math.max(MIN_CHUNK_TILES, CHUNK_FLOATS / (a2 * Math.max(c, o))));
        if (wide >= tilesX) { // whole rows of tiles, which the output pass reads where the products left them
            wide = wide / tilesX * tilesX;
        }
        int chunk = maxChunk > 0 ? Math.min(wide, maxChunk) : wide;
        int block = outputBlock(a2, c, o, maxBlock);
        boolean oneBlock = block == o;
        float[] u = Scratch.take(a2 * block * c);
        if (oneBlock) {
            WinogradFilters.transform(f, wt, o, c, 0, o, transposed, u);
        }
        float[] v = Scratch.take(a2 * new PackedPanels(c, chunk).size());
        float[] prod = Scratch.take(a2 * block * chunk);
        float[] y = sdj.tensor.ActivationArena.floats(n * o * h * w);
        WinogradTiling tiling = new WinogradTiling(f, n, h, w, tilesY, tilesX);
        for (int t0 = 0; t0 < tiles; t0 += chunk) {
            int count = Math.min(chunk, tiles - t0);
            int first = t0;
            PackedPanels panels = new PackedPanels(c, count); // V_ξ written as the products read it
            Parallel.range(c, 4L * a2 * count, (c0, c1) -> tiling.inputs(x, c, c0, c1, first, count, panels, v));
            for (int b0 = 0; b0 < o; b0 += block) {
                int start = b0;
                int rows = Math.min(block, o - b0);
                if (!oneBlock) {
                    WinogradFilters.transform(f, wt, o, c, start, start + rows, transposed, u);
                }
                long flopsEach = 2L * rows * c * count;
                Gemm.batched(a2, flopsEach, xi -> panels.multiply(rows, Gemm.Operand.rowMajor(u, xi * rows * c, c), v,
                        xi * panels.size(), prod, xi * rows * chunk, chunk));
                Parallel.range(rows, 4L * a2 * count, (o0, o1) -> tiling.outputs(prod, o, start, rows, start + o0,
                        start + o1, first, count, chunk, bias, y));
            }
        }
        Scratch.give(prod);
        Scratch.give(v);
        Scratch.give(u);
        return y;
    }

    /** Floats of transformed filters (U) held at once: 16 MB whatever the channel counts. */
    static final int FILTER_FLOATS = 4 << 20;

    /**
     * Output channels per block of transformed filters: all of them when their U fits {@link #FILTER_FLOATS}, else
     * blocks of a multiple of 16 channels that do (a 2560→1280 F(2,3) layer's whole U would be 210 MB of scratch).
     * Blocks re-transform their filters per chunk of tiles, which only large images have several of, where the
     * transform is a small share of the products.
     */
    static int outputBlock(int a2, int c, int o, int maxBlock) {
        int fits = Math.max(16, FILTER_FLOATS / (a2 * c) / 16 * 16);
        int block = Math.min(o, fits);
        return maxBlock > 0 ? Math.min(block, maxBlock) : block;
    }
}
