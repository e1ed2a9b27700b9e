package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 3×3, stride-1, pad-1 convolution with at most {@link #MAX_OUTPUTS} output channels (the VAE's conv_out,
 * 128 → 3 at 512²), computed directly: as a GEMM its product has 3 rows, so packing the 1152 × 262144 patch
 * matrix costs as much as the multiplications and the register tile is mostly idle (10 GFLOP/s). Here one output
 * row at a time keeps every output's sums for the row in a small buffer (L1) while each input channel's three
 * rows stream through in order, each loaded vector feeding 3 taps × 4 outputs of FMAs. The zero padding is
 * masked loads. Each output is one thread's sum over (channel, tap row, tap column) in that order, whatever
 * the thread count.
 */
final class FewOutputConv {
    static final int MAX_OUTPUTS = 4;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private FewOutputConv() {
    }

    /**
     * y[b][oc][r][col] = bias[oc] + Σ_ic Σ_ky Σ_kx x[b][ic][r+ky−1][col+kx−1]·w[oc][ic][ky][kx] (zero outside the
     * image), for o ≤ {@link #MAX_OUTPUTS}; {@code w} is [O, C, 3, 3] row-major, {@code bias} may be null.
     */
    static void conv3x3(float[] x, int n, int c, int h, int w, float[] wt, int o, float[] bias, float[] y) {
        if (o < 1 || o > MAX_OUTPUTS) {
            throw new IllegalArgumentException(o + " output channels: this kernel takes 1 to " + MAX_OUTPUTS);
        }
        // [ic][ky][kx][oc] with the unused outputs' weights zero, so every row runs the same 4 sums
        float[] taps = new float[c * 9 * MAX_OUTPUTS];
        for (int oc = 0; oc < o; oc++) {
            for (int k = 0; k < c * 9; k++) {
                taps[k * MAX_OUTPUTS + oc] = wt[oc * c * 9 + k];
            }
        }
        int padded = (w + L - 1) / L * L;
        Parallel.range(n * h, 2L * MAX_OUTPUTS * 9 * c * w, (r0, r1) -> {
            float[] sums = Scratch.take(MAX_OUTPUTS * padded);
            for (int row = r0; row < r1; row++) {
                row(x, row / h, row % h, c, h, w, padded, taps, sums);
                int out = ((row / h) * o * h + row % h) * w;
                for (int oc = 0; oc < o; oc++) {
                    float bb = bias == null ? 0f : bias[oc];
                    for (int col = 0; col < w; col++) {
                        y[out + oc * h * w + col] = sums[oc * padded + col] + bb;
                    }
                }
            }
            Scratch.give(sums);
        });
    }

    /** sums[oc][col] = the 9·C-term sum of output row {@code r} of image {@code b}, for all 4 outputs. */
    private static void row(float[] x, int b, int r, int c, int h, int w, int padded, float[] taps, float[] sums) {
        java.util.Arrays.fill(sums, 0, MAX_OUTPUTS * padded, 0f);
        for (int ic = 0; ic < c; ic++) {
            for (int ky = 0; ky < 3; ky++) {
                int in = r + ky - 1;
                if (in < 0 || in >= h) {
                    continue;
                }
                int base = ((b * c + ic) * h + in) * w;
                int t = (ic * 3 + ky) * 3 * MAX_OUTPUTS;
                FloatVector w00 = FloatVector.broadcast(F, taps[t]);
                FloatVector w01 = FloatVector.broadcast(F, taps[t + 1]);
                FloatVector w02 = FloatVector.broadcast(F, taps[t + 2]);
                FloatVector w03 = FloatVector.broadcast(F, taps[t + 3]);
                FloatVector w10 = FloatVector.broadcast(F, taps[t + 4]);
                FloatVector w11 = FloatVector.broadcast(F, taps[t + 5]);
                FloatVector w12 = FloatVector.broadcast(F, taps[t + 6]);
                FloatVector w13 = FloatVector.broadcast(F, taps[t + 7]);
                FloatVector w20 = FloatVector.broadcast(F, taps[t + 8]);
                FloatVector w21 = FloatVector.broadcast(F, taps[t + 9]);
                FloatVector w22 = FloatVector.broadcast(F, taps[t + 10]);
                FloatVector w23 = FloatVector.broadcast(F, taps[t + 11]);
                for (int x0 = 0; x0 < w; x0 += L) {
                    // input columns x0 − 1, x0, x0 + 1 onwards; lanes outside the row are the zero padding
                    FloatVector u0 = FloatVector.fromArray(F, x, base + x0 - 1, F.indexInRange(x0 - 1, w));
                    FloatVector u1 = FloatVector.fromArray(F, x, base + x0, F.indexInRange(x0, w));
                    FloatVector u2 = FloatVector.fromArray(F, x, base + x0 + 1, F.indexInRange(x0 + 1, w));
                    FloatVector s0 = FloatVector.fromArray(F, sums, x0);
                    FloatVector s1 = FloatVector.fromArray(F, sums, padded + x0);
                    FloatVector s2 = FloatVector.fromArray(F, sums, 2 * padded + x0);
                    FloatVector s3 = FloatVector.fromArray(F, sums, 3 * padded + x0);
                    u2.fma(w20, u1.fma(w10, u0.fma(w00, s0))).intoArray(sums, x0);
                    u2.fma(w21, u1.fma(w11, u0.fma(w01, s1))).intoArray(sums, padded + x0);
                    u2.fma(w22, u1.fma(w12, u0.fma(w02, s2))).intoArray(sums, 2 * padded + x0);
                    u2.fma(w23, u1.fma(w13, u0.fma(w03, s3))).intoArray(sums, 3 * padded + x0);
                }
            }
        }
    }
}
