package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * F(4,3)'s image rows split into their four column phases, and output pixel rows merged back from them, by
 * two-vector permutes (one vpermt2ps each on AVX-512): 4·L consecutive columns are four vectors, and eight
 * permutes turn them into the four phases of L tiles (or back). A gather of L columns 4 apart costs about five
 * times as much per element, and a scalar loop four times.
 *
 * <p>Used for rows whose width is a multiple of 4·L, so every group of L tiles is whole.
 */
final class WinogradPhases {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Columns per group: four phases of L tiles. */
    static final int GROUP = 4 * L;
    // permute tables (lane values index the two sources: a lane < L picks the first, else the second):
    // phases 0 | 1 of 2L columns, phases 2 | 3, then the low halves of two vectors | their high halves
    private static final float[] PHASES_01 = table(i -> i < L / 2 ? 4 * i : 4 * (i - L / 2) + 1);
    private static final float[] PHASES_23 = table(i -> i < L / 2 ? 4 * i + 2 : 4 * (i - L / 2) + 3);
    private static final float[] LOW_HALVES = table(i -> i < L / 2 ? i : L + i - L / 2);
    private static final float[] HIGH_HALVES = table(i -> i < L / 2 ? L / 2 + i : L + i);
    // the merge: (a[t], b[t]) pairs for t < L/2 | t ≥ L/2, then two pairs of pairs, low | high
    private static final float[] PAIRS_LOW = table(i -> i % 2 == 0 ? i / 2 : L + i / 2);
    private static final float[] PAIRS_HIGH = table(i -> (i % 2 == 0 ? 0 : L) + L / 2 + i / 2);
    private static final float[] QUADS_LOW = table(i -> (i % 4 < 2 ? 0 : L) + i / 4 * 2 + i % 2);
    private static final float[] QUADS_HIGH = table(i -> (i % 4 < 2 ? 0 : L) + L / 2 + i / 4 * 2 + i % 2);

    private WinogradPhases() {
    }

    private static float[] table(java.util.function.IntUnaryOperator lane) {
        float[] t = new float[L];
        for (int i = 0; i < L; i++) {
            t[i] = lane.applyAsInt(i);
        }
        return t;
    }

    /**
     * For columns [0, groups·GROUP) of the row at x[row]: out[q·qStride + t] = x[row + 4t + q] for phase q in 0..3
     * and t < groups·L, each phase written at its own start {@code q0..q3} plus t.
     */
    static void split(float[] x, int row, int groups, float[] out, int q0, int q1, int q2, int q3) {
        FloatVector p01 = FloatVector.fromArray(S, PHASES_01, 0);
        FloatVector p23 = FloatVector.fromArray(S, PHASES_23, 0);
        FloatVector low = FloatVector.fromArray(S, LOW_HALVES, 0);
        FloatVector high = FloatVector.fromArray(S, HIGH_HALVES, 0);
        for (int g = 0; g < groups; g++) {
            int at = row + g * GROUP;
            FloatVector a = FloatVector.fromArray(S, x, at);
            FloatVector b = FloatVector.fromArray(S, x, at + L);
            FloatVector c = FloatVector.fromArray(S, x, at + 2 * L);
            FloatVector d = FloatVector.fromArray(S, x, at + 3 * L);
            FloatVector ab01 = p01.selectFrom(a, b);
            FloatVector cd01 = p01.selectFrom(c, d);
            FloatVector ab23 = p23.selectFrom(a, b);
            FloatVector cd23 = p23.selectFrom(c, d);
            int t = g * L;
            low.selectFrom(ab01, cd01).intoArray(out, q0 + t);
            high.selectFrom(ab01, cd01).intoArray(out, q1 + t);
            low.selectFrom(ab23, cd23).intoArray(out, q2 + t);
            high.selectFrom(ab23, cd23).intoArray(out, q3 + t);
        }
    }

    /** The inverse: y[row + 4t + q] = in[q_q + t] for q in 0..3 and t < groups·L. */
    static void merge(float[] in, int q0, int q1, int q2, int q3, int groups, float[] y, int row) {
        FloatVector pairsLow = FloatVector.fromArray(S, PAIRS_LOW, 0);
        FloatVector pairsHigh = FloatVector.fromArray(S, PAIRS_HIGH, 0);
        FloatVector quadsLow = FloatVector.fromArray(S, QUADS_LOW, 0);
        FloatVector quadsHigh = FloatVector.fromArray(S, QUADS_HIGH, 0);
        for (int g = 0; g < groups; g++) {
            int t = g * L;
            FloatVector a = FloatVector.fromArray(S, in, q0 + t);
            FloatVector b = FloatVector.fromArray(S, in, q1 + t);
            FloatVector c = FloatVector.fromArray(S, in, q2 + t);
            FloatVector d = FloatVector.fromArray(S, in, q3 + t);
            FloatVector abLow = pairsLow.selectFrom(a, b);
            FloatVector abHigh = pairsHigh.selectFrom(a, b);
            FloatVector cdLow = pairsLow.selectFrom(c, d);
            FloatVector cdHigh = pairsHigh.selectFrom(c, d);
            int at = row + g * GROUP;
            quadsLow.selectFrom(abLow, cdLow).intoArray(y, at);
            quadsHigh.selectFrom(abLow, cdLow).intoArray(y, at + L);
            quadsLow.selectFrom(abHigh, cdHigh).intoArray(y, at + 2 * L);
            quadsHigh.selectFrom(abHigh, cdHigh).intoArray(y, at + 3 * L);
        }
    }
}
