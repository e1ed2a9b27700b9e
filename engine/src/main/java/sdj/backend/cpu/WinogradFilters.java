package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import sdj.tensor.Tensor;

/**
 * {@link CpuWinograd}'s filter transform U = G g Gᵀ, one filter per vector lane. A conv at a small image (512
 * channels at 32²) spends about as long here as in its products, since α²·O·C values are made whatever the image
 * size, so the kernel keeps a vector of filters in registers from its 9 taps to its α² values. Each value is the
 * fma chain over G's row, zero coefficients included: for finite weights that is the chain over the nonzero ones
 * alone (adding a product with 0 changes nothing), with no branch in the vector code.
 */
final class WinogradFilters {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Filters per block (a multiple of every vector length). */
    static final int BLOCK = 256;

    private WinogradFilters() {
    }

    /**
     * u[ξ][oc − o0][ic] = (G g Gᵀ)[ξ] of the filter g of output channel oc in [o0, o1) and input channel ic: g is
     * {@code weight[oc][ic]} (shape [O, C, 3, 3]) or, with {@code transposed}, {@code weight[ic][oc]} rotated by 180°
     * (shape [C, O, 3, 3]: the data gradient's filter).
     */
    static void transform(WinogradTiles f, Tensor weight, int o, int c, int o0, int o1, boolean transposed,
            float[] u) {
        Tensor wt = weight.isContiguous() ? weight : weight.contiguous();
        int first = o0 * c;
        int filters = (o1 - o0) * c;
        int blocks = (filters + BLOCK - 1) / BLOCK;
        Parallel.range(blocks, 40L * f.alpha * f.alpha * BLOCK,
                (b0, b1) -> blocks(f, wt, o, c, first, filters, transposed, u, b0, b1));
    }

    /** Blocks [b0, b1) of {@link #BLOCK} filters of {@link #transform}, on the calling thread. */
    private static void blocks(WinogradTiles f, Tensor wt, int o, int c, int first, int filters, boolean transposed,
            float[] u, int b0, int b1) {
        // scratch, not fresh arrays: a layer in blocks of output channels runs this once per block and chunk;
        // filters past a short last block hold stale values whose transforms are never stored
        float[] raw = Scratch.take(9 * BLOCK); // the block's filters as stored: [filter][u][v]
        float[] taps = Scratch.take(9 * BLOCK); // [u][v][filter]
        float[] values = Scratch.take(f.alpha * f.alpha * BLOCK); // G g Gᵀ: [i][j][filter]
        for (int blk = b0; blk < b1; blk++) {
            int p0 = blk * BLOCK;
            int count = Math.min(BLOCK, filters - p0);
            read(wt, o, c, first + p0, count, transposed, raw, taps);
            inLanes(f, taps, count, values);
            // one run per ξ: stores straight into u would go to α² lines a stride of 2^k floats apart (a conflict
            // in every cache level), three times slower
            for (int xi = 0; xi < f.alpha * f.alpha; xi++) {
                System.arraycopy(values, xi * BLOCK, u, xi * filters + p0, count);
            }
        }
        Scratch.give(values);
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

    /**
     * values[(α·i + j)·BLOCK + q] = U[i][j] of filter q < count: for L filters at a time their taps are loaded,
     * each row i of G g made (three vectors, the chain over G's row i down the taps' rows) and at once turned into
     * its α values (the chain over G's row j along the columns).
     */
    private static void inLanes(WinogradTiles f, float[] taps, int count, float[] values) {
        float[][] g = f.gf;
        int alpha = f.alpha;
        FloatVector zero = FloatVector.zero(S);
        for (int q = 0; q < count; q += L) {
            FloatVector g00 = FloatVector.fromArray(S, taps, q);
            FloatVector g01 = FloatVector.fromArray(S, taps, BLOCK + q);
            FloatVector g02 = FloatVector.fromArray(S, taps, 2 * BLOCK + q);
            FloatVector g10 = FloatVector.fromArray(S, taps, 3 * BLOCK + q);
            FloatVector g11 = FloatVector.fromArray(S, taps, 4 * BLOCK + q);
            FloatVector g12 = FloatVector.fromArray(S, taps, 5 * BLOCK + q);
            FloatVector g20 = FloatVector.fromArray(S, taps, 6 * BLOCK + q);
            FloatVector g21 = FloatVector.fromArray(S, taps, 7 * BLOCK + q);
            FloatVector g22 = FloatVector.fromArray(S, taps, 8 * BLOCK + q);
            for (int i = 0; i < alpha; i++) {
                FloatVector a = FloatVector.broadcast(S, g[i][0]);
                FloatVector b = FloatVector.broadcast(S, g[i][1]);
                FloatVector c = FloatVector.broadcast(S, g[i][2]);
                FloatVector h0 = g20.fma(c, g10.fma(b, g00.fma(a, zero)));
                FloatVector h1 = g21.fma(c, g11.fma(b, g01.fma(a, zero)));
                FloatVector h2 = g22.fma(c, g12.fma(b, g02.fma(a, zero)));
                for (int j = 0; j < alpha; j++) {
                    FloatVector aj = FloatVector.broadcast(S, g[j][0]);
                    FloatVector bj = FloatVector.broadcast(S, g[j][1]);
                    FloatVector cj = FloatVector.broadcast(S, g[j][2]);
                    h2.fma(cj, h1.fma(bj, h0.fma(aj, zero))).intoArray(values, (i * alpha + j) * BLOCK + q);
                }
            }
        }
    }
}
