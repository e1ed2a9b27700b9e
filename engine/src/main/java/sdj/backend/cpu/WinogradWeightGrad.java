package sdj.backend.cpu;

/**
 * The weight gradient of a 3×3 stride-1 pad-1 convolution through the adjoint of {@link CpuWinograd}'s
 * forward. Each output tile is y = Aᵀ[U ⊙ V]A with U = G g Gᵀ, so with gY the tile's output gradient
 * dU = Σ_tiles (A gY Aᵀ) ⊙ V and dg = Gᵀ dU G: per tile position ξ one GEMM
 * dU_ξ[O × C] = (A gY Aᵀ)_ξ[O × tiles] · V_ξ[C × tiles]ᵀ over all tiles of the batch, then one small
 * transform per filter. The input transform V is the forward's.
 */
final class WinogradWeightGrad {
    private WinogradWeightGrad() {
    }

    /** dW[o][c][u][v] = Σ_b Σ_pixels gy[b][o][p]·x[b][c][p + (u − 1, v − 1)] (x zero outside), shape [O, C, 3, 3]. */
    static float[] weightGrad(WinogradTiles f, float[] x, float[] gy, int n, int c, int h, int w, int o, int maxChunk) {
        int a2 = f.alpha * f.alpha;
        int tilesY = (h + f.m - 1) / f.m;
        int tilesX = (w + f.m - 1) / f.m;
        int tiles = n * tilesY * tilesX;
        int wide = Math.min(tiles, Math.max(CpuWinograd.MIN_CHUNK_TILES, CpuWinograd.CHUNK_FLOATS / (a2 * Math.max(c, o))));
        int chunk = maxChunk > 0 ? Math.min(wide, maxChunk) : wide;
        float[] v = Scratch.take(a2 * c * chunk);
        float[] g = Scratch.take(a2 * o * chunk);
        float[] du = Scratch.take(a2 * o * c);
        WinogradTiling tiling = new WinogradTiling(f, n, h, w, tilesY, tilesX);
        for (int t0 = 0; t0 < tiles; t0 += chunk) {
            int count = Math.min(chunk, tiles - t0);
            int first = t0;
            boolean accumulate = t0 > 0;
            Parallel.range(c, 4L * a2 * count, (c0, c1) -> tiling.inputs(x, c, c0, c1, first, count, chunk, v));
            Parallel.range(o, 4L * a2 * count, (o0, o1) -> tiling.gradients(gy, o, o0, o1, first, count, chunk, g));
            Gemm.batched(a2, 2L * o * c * count, xi -> Gemm.sgemm(o, c, count, Gemm.Operand.rowMajor(g, xi * o * chunk, chunk),
                    Gemm.Operand.rowMajor(v, xi * c * chunk, chunk).t(), du, xi * o * c, c, accumulate));
        }
        float[] gw = new float[o * c * 9];
        untransformFilters(f, du, o * c, gw);
        Scratch.give(du);
        Scratch.give(g);
        Scratch.give(v);
        return gw;
    }

    /** gw[p] (3×3) = Gᵀ dU[·][p] G for every filter p, one filter per vector lane. */
    private static void untransformFilters(WinogradTiles f, float[] du, int filters, float[] gw) {
        int alpha = f.alpha;
        int lanes = WinogradFilters.BLOCK;
        int blocks = (filters + lanes - 1) / lanes;
        Parallel.range(blocks, 40L * alpha * alpha * lanes, (b0, b1) -> {
            float[] block = new float[alpha * alpha * lanes]; // dU: [i][j][filter]
            float[] half = new float[3 * alpha * lanes]; // Gᵀ dU: [u][j][filter]
            float[] taps = new float[9 * lanes]; // Gᵀ dU G: [u][v][filter]
            int[] byI = WinogradTiling.offsets(alpha, alpha * lanes, 0);
            int[] byU = WinogradTiling.offsets(3, alpha * lanes, 0);
            int[] byJ = WinogradTiling.offsets(alpha, lanes, 0);
            int[] byV = WinogradTiling.offsets(3, lanes, 0);
            for (int blk = b0; blk < b1; blk++) {
                int p0 = blk * lanes;
                int count = Math.min(lanes, filters - p0);
                for (int xi = 0; xi < alpha * alpha; xi++) {
                    System.arraycopy(du, xi * filters + p0, block, xi * lanes, count);
                }
                for (int j = 0; j < alpha; j++) {
                    WinogradTiling.combine(f.gt, block, j * lanes, byI, half, j * lanes, byU, lanes, 0f);
                }
                for (int u = 0; u < 3; u++) {
                    WinogradTiling.combine(f.gt, half, u * alpha * lanes, byJ, taps, u * 3 * lanes, byV, lanes, 0f);
                }
                for (int q = 0; q < count; q++) {
                    for (int k = 0; k < 9; k++) {
                        gw[(p0 + q) * 9 + k] = taps[k * lanes + q];
                    }
                }
            }
        });
    }
}
