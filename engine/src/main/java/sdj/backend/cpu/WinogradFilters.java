package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import sdj.tensor.Tensor;

/**
 * {@link CpuWinograd}'s filter transform U = G g Gᵀ, one filter per vector lane. A conv at a small image (512
 * channels at 32²) spends as long here as in its products, since α²·O·C values are made whatever the image size;
 * so F(4,3), the tiles every large layer runs, has its own kernel that keeps a vector of filters in registers
 * from the 9 taps to the 36 values, with the generic path's operations in the same order (bit for bit the same
 * U). Other tiles go through {@link WinogradTiling#combine}.
 */
final class WinogradFilters {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Filters per block (a multiple of every vector length). */
    static final int BLOCK = 256;
    /** F(4,3)'s G, as {@link WinogradTiles#gf} rounds it. */
    private static final float QUARTER = WinogradTiles.F4.gf[0][0];
    private static final float SIXTH = WinogradTiles.F4.gf[2][1];
    private static final float TWELFTH = WinogradTiles.F4.gf[3][1];
    private static final float TWENTY_FOURTH = WinogradTiles.F4.gf[3][0];

    private WinogradFilters() {
    }

    /**
     * u[ξ][oc − o0][ic] = (G g Gᵀ)[ξ] of the filter g of output channel oc in [o0, o1) and input channel ic: g is
     * {@code weight[oc][ic]} (shape [O, C, 3, 3]) or, with {@code transposed}, {@code weight[ic][oc]} rotated by 180°
     * (shape [C, O, 3, 3]: the data gradient's filter).
     */
    static void transform(WinogradTiles f, Tensor weight, int o, int c, int o0, int o1, boolean transposed,
            float[] u) {
        transform(f, weight, o, c, o0, o1, transposed, u, f == WinogradTiles.F4);
    }

    /** As above, through F(4,3)'s own kernel or (tests compare the two) the generic one. */
    static void transform(WinogradTiles f, Tensor weight, int o, int c, int o0, int o1, boolean transposed,
            float[] u, boolean ownKernel) {
        Tensor wt = weight.isContiguous() ? weight : weight.contiguous();
        int first = o0 * c;
        int filters = (o1 - o0) * c;
        int blocks = (filters + BLOCK - 1) / BLOCK;
        Parallel.range(blocks, 40L * f.alpha * f.alpha * BLOCK,
                (b0, b1) -> blocks(f, wt, o, c, first, filters, transposed, u, ownKernel, b0, b1));
    }

    /** Blocks [b0, b1) of {@link #BLOCK} filters of {@link #transform}, on the calling thread. */
    static void blocks(WinogradTiles f, Tensor wt, int o, int c, int first, int filters, boolean transposed,
            float[] u, boolean ownKernel, int b0, int b1) {
        // scratch, not fresh arrays: a layer in blocks of output channels runs this once per block and chunk;
        // filters past a short last block hold stale values whose transforms are never stored
        float[] raw = Scratch.take(9 * BLOCK); // the block's filters as stored: [filter][u][v]
        float[] taps = Scratch.take(9 * BLOCK); // [u][v][filter]
        float[] work = Scratch.take((f.alpha * 3 + f.alpha * f.alpha) * BLOCK); // G g, then G g Gᵀ: [i][j][filter]
        for (int blk = b0; blk < b1; blk++) {
            int p0 = blk * BLOCK;
            int count = Math.min(BLOCK, filters - p0);
            read(wt, o, c, first + p0, count, transposed, raw, taps);
            int full = ownKernel ? f43(taps, count, work) : generic(f, taps, work);
            // one run per ξ: stores straight into u would go to α² lines a stride of 2^k floats apart (a conflict
            // in every cache level), three times slower
            for (int xi = 0; xi < f.alpha * f.alpha; xi++) {
                System.arraycopy(work, full + xi * BLOCK, u, xi * filters + p0, count);
            }
        }
        Scratch.give(work);
        Scratch.give(taps);
        Scratch.give(raw);
    }

    /** taps[k][q] = tap k of filter first + q (filter p = oc·C + ic), for q < count. */
    private static void read(Tensor wt, int o, int c, int first, int count, boolean transposed, float[] raw,
            float[] taps) {
        if (!transposed) {
            HostWeights.copyRange(wt, 9L * first, raw, 0, 9 * count);
            for (int q = 0; q < count; q++) {
                for (int k = 0; k < 9; k++) {
                    taps[k * BLOCK + q] = raw[q * 9 + k];
                }
            }
            return;
        }
        for (int q = 0; q < count; q++) {
            int p = first + q;
            // the data gradient correlates with the weight of (out = ic, in = oc) rotated by 180°
            HostWeights.copyRow(wt, (long) (p % c) * o + p / c, 9, raw, 0);
            for (int k = 0; k < 9; k++) {
                taps[k * BLOCK + q] = raw[8 - k];
            }
        }
    }

    /** G·g over the filters' rows, then ·Gᵀ over columns, through the tiles' coefficient tables; U at work[return]. */
    private static int generic(WinogradTiles f, float[] taps, float[] work) {
        int alpha = f.alpha;
        int lanes = BLOCK;
        int full = alpha * 3 * lanes; // G g at work[0]: [i][v][filter]
        int[] byTapRow = WinogradTiling.offsets(3, 3 * lanes, 0);
        int[] byHalfRow = WinogradTiling.offsets(alpha, 3 * lanes, 0);
        int[] byColumn = WinogradTiling.offsets(3, lanes, 0);
        int[] byFullColumn = WinogradTiling.offsets(alpha, lanes, 0);
        for (int v = 0; v < 3; v++) {
            WinogradTiling.combine(f.gf, taps, v * lanes, byTapRow, work, v * lanes, byHalfRow, lanes, 0f);
        }
        for (int i = 0; i < alpha; i++) {
            WinogradTiling.combine(f.gf, work, i * 3 * lanes, byColumn, work, full + i * alpha * lanes, byFullColumn,
                    lanes, 0f);
        }
        return full;
    }

    /**
     * F(4,3): for L filters at a time, their 3×3 taps loaded, each row i of G g (three vectors) made and at once
     * turned into the six values U[i][j] = G_j · (G g)[i], stored at work[(6i + j)·BLOCK + q]. Each value is the
     * fma chain {@link WinogradTiling#combine} runs: zero, then the nonzero coefficients in order. Returns 0,
     * where U starts.
     */
    private static int f43(float[] taps, int count, float[] work) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector quarter = FloatVector.broadcast(S, QUARTER);
        FloatVector sixth = FloatVector.broadcast(S, SIXTH);
        FloatVector minusSixth = FloatVector.broadcast(S, -SIXTH);
        FloatVector twelfth = FloatVector.broadcast(S, TWELFTH);
        FloatVector minusTwelfth = FloatVector.broadcast(S, -TWELFTH);
        FloatVector twentyFourth = FloatVector.broadcast(S, TWENTY_FOURTH);
        for (int q = 0; q < count; q += L) {
            FloatVector g00 = FloatVector.fromArray(S, taps, 0 + q);
            FloatVector g01 = FloatVector.fromArray(S, taps, BLOCK + q);
            FloatVector g02 = FloatVector.fromArray(S, taps, 2 * BLOCK + q);
            FloatVector g10 = FloatVector.fromArray(S, taps, 3 * BLOCK + q);
            FloatVector g11 = FloatVector.fromArray(S, taps, 4 * BLOCK + q);
            FloatVector g12 = FloatVector.fromArray(S, taps, 5 * BLOCK + q);
            FloatVector g20 = FloatVector.fromArray(S, taps, 6 * BLOCK + q);
            FloatVector g21 = FloatVector.fromArray(S, taps, 7 * BLOCK + q);
            FloatVector g22 = FloatVector.fromArray(S, taps, 8 * BLOCK + q);
            for (int i = 0; i < 6; i++) {
                // (G g)[i][v] for the three columns v: G's row i over the tap rows
                FloatVector h0;
                FloatVector h1;
                FloatVector h2;
                switch (i) {
                    case 0 -> {
                        h0 = g00.fma(quarter, zero);
                        h1 = g01.fma(quarter, zero);
                        h2 = g02.fma(quarter, zero);
                    }
                    case 1 -> {
                        h0 = g20.fma(minusSixth, g10.fma(minusSixth, g00.fma(minusSixth, zero)));
                        h1 = g21.fma(minusSixth, g11.fma(minusSixth, g01.fma(minusSixth, zero)));
                        h2 = g22.fma(minusSixth, g12.fma(minusSixth, g02.fma(minusSixth, zero)));
                    }
                    case 2 -> {
                        h0 = g20.fma(minusSixth, g10.fma(sixth, g00.fma(minusSixth, zero)));
                        h1 = g21.fma(minusSixth, g11.fma(sixth, g01.fma(minusSixth, zero)));
                        h2 = g22.fma(minusSixth, g12.fma(sixth, g02.fma(minusSixth, zero)));
                    }
                    case 3 -> {
                        h0 = g20.fma(sixth, g10.fma(twelfth, g00.fma(twentyFourth, zero)));
                        h1 = g21.fma(sixth, g11.fma(twelfth, g01.fma(twentyFourth, zero)));
                        h2 = g22.fma(sixth, g12.fma(twelfth, g02.fma(twentyFourth, zero)));
                    }
                    case 4 -> {
                        h0 = g20.fma(sixth, g10.fma(minusTwelfth, g00.fma(twentyFourth, zero)));
                        h1 = g21.fma(sixth, g11.fma(minusTwelfth, g01.fma(twentyFourth, zero)));
                        h2 = g22.fma(sixth, g12.fma(minusTwelfth, g02.fma(twentyFourth, zero)));
                    }
                    default -> {
                        h0 = g20.fma(one, zero);
                        h1 = g21.fma(one, zero);
                        h2 = g22.fma(one, zero);
                    }
                }
                int at = 6 * i * BLOCK + q;
                h0.fma(quarter, zero).intoArray(work, at);
                h2.fma(minusSixth, h1.fma(minusSixth, h0.fma(minusSixth, zero))).intoArray(work, at + BLOCK);
                h2.fma(minusSixth, h1.fma(sixth, h0.fma(minusSixth, zero))).intoArray(work, at + 2 * BLOCK);
                h2.fma(sixth, h1.fma(twelfth, h0.fma(twentyFourth, zero))).intoArray(work, at + 3 * BLOCK);
                h2.fma(sixth, h1.fma(minusTwelfth, h0.fma(twentyFourth, zero))).intoArray(work, at + 4 * BLOCK);
                h2.fma(one, zero).intoArray(work, at + 5 * BLOCK);
            }
        }
        return 0;
    }
}
