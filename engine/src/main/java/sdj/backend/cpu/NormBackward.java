package sdj.backend.cpu;

/**
 * The closed-form backward of {@link CpuNorm}'s normalisation, rows in parallel: with x̂ the normalised input,
 * dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))·invStd per row, dx̂ = g·γ, and dγ = Σ g·x̂, dβ = Σ g per channel. Each
 * block of rows keeps its own channel sums (summed over blocks afterwards, in order), so threads share nothing and
 * the result does not depend on the thread count.
 */
final class NormBackward {
    /** Elements per block of rows that share one set of channel sums (a row's worth at least). */
    private static final int ROWS_OF_WORK = 16_384;

    private NormBackward() {
    }

    /** The input's gradient (into gx when not null) and Σ g·x̂ / Σ g per parameter (into gGamma / gBeta when not empty). */
    static void run(float[] g, float[] xhat, float[] invStd, float[] gamma, float[] gx, double[] gGamma, double[] gBeta,
            int rows, int rowLen, int spatial, int channelsPerRow, int groups) {
        boolean params = gGamma.length > 0;
        int blockRows = Math.max(1, ROWS_OF_WORK / rowLen); // a layer norm's short rows share one set of sums
        int blocks = (rows + blockRows - 1) / blockRows;
        int channels = groups * channelsPerRow;
        double[] blockGamma = params ? new double[blocks * channels] : null;
        double[] blockBeta = params ? new double[blocks * channels] : null;
        Parallel.range(blocks, 8L * rowLen * blockRows, (b0, b1) -> {
            for (int r = b0 * blockRows; r < Math.min(rows, b1 * blockRows); r++) {
                int base = r * rowLen;
                int chBase = (r % groups) * channelsPerRow;
                int sums = r / blockRows * channels + chBase;
                double meanD = 0;
                double meanDX = 0;
                for (int cc = 0; cc < channelsPerRow; cc++) {
                    int off = base + cc * spatial;
                    float gam = gamma == null ? 1f : gamma[chBase + cc];
                    double sg = 0;
                    double sgx = 0;
                    for (int e = off; e < off + spatial; e++) {
                        float gi = g[e];
                        sg += gi;
                        sgx += gi * xhat[e];
                    }
                    if (params) {
                        blockGamma[sums + cc] += sgx;
                        blockBeta[sums + cc] += sg;
                    }
                    meanD += gam * sg;
                    meanDX += gam * sgx;
                }
                if (gx == null) {
                    continue;
                }
                float md = (float) (meanD / rowLen);
                float mdx = (float) (meanDX / rowLen);
                float inv = invStd[r];
                for (int cc = 0; cc < channelsPerRow; cc++) {
                    int off = base + cc * spatial;
                    float gam = gamma == null ? 1f : gamma[chBase + cc];
                    for (int e = off; e < off + spatial; e++) {
                        gx[e] = (g[e] * gam - md - xhat[e] * mdx) * inv;
                    }
                }
            }
        });
        if (params) {
            for (int b = 0; b < blocks; b++) {
                for (int ch = 0; ch < channels; ch++) {
                    gGamma[ch] += blockGamma[b * channels + ch];
                    gBeta[ch] += blockBeta[b * channels + ch];
                }
            }
        }
    }
}
