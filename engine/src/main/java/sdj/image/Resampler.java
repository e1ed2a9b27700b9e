package sdj.image;

/**
 * Separable resampling of float planes: each output sample is a normalised weighted sum of input
 * samples along one axis, then the other. Two weightings: Lanczos-3 for photos (the filter CompVis
 * img2img asks PIL for), widened by the scale factor when shrinking so it also anti-aliases; and
 * exact area averaging (weights = overlap of input and output pixel intervals) for masks.
 */
final class Resampler {
    enum Filter {
        LANCZOS3, AREA
    }

    private Resampler() {
    }

    /** Resamples {@code channels} planes of {@code w x h}, stored one after another, to {@code outW x outH}. */
    static float[] resample(float[] src, int channels, int w, int h, int outW, int outH, Filter filter) {
        Weights wx = Weights.of(w, outW, filter);
        Weights wy = Weights.of(h, outH, filter);
        float[] tmp = new float[channels * h * outW];
        float[] out = new float[channels * outH * outW];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < outW; x++) {
                    double s = 0;
                    for (int k = 0; k < wx.count[x]; k++) {
                        s += wx.weight[x][k] * src[(c * h + y) * w + wx.first[x] + k];
                    }
                    tmp[(c * h + y) * outW + x] = (float) s;
                }
            }
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    double s = 0;
                    for (int k = 0; k < wy.count[y]; k++) {
                        s += wy.weight[y][k] * tmp[(c * h + wy.first[y] + k) * outW + x];
                    }
                    out[(c * outH + y) * outW + x] = (float) s;
                }
            }
        }
        return out;
    }

    /** For each output index: the first contributing input index and the normalised weights. */
    private record Weights(int[] first, int[] count, double[][] weight) {
        static Weights of(int in, int out, Filter filter) {
            double scale = (double) in / out;
            int[] first = new int[out];
            int[] count = new int[out];
            double[][] weight = new double[out][];
            for (int i = 0; i < out; i++) {
                double lo;
                double hi;
                double stretch = Math.max(scale, 1);
                double center = (i + 0.5) * scale;
                if (filter == Filter.AREA) {
                    lo = i * scale;
                    hi = (i + 1) * scale;
                } else {
                    lo = center - 3 * stretch;
                    hi = center + 3 * stretch;
                }
                int from = Math.max(0, (int) Math.floor(lo));
                int to = Math.min(in, (int) Math.ceil(hi));
                double[] wt = new double[Math.max(0, to - from)];
                double sum = 0;
                for (int j = from; j < to; j++) {
                    wt[j - from] = filter == Filter.AREA
                            ? Math.max(0, Math.min(j + 1, hi) - Math.max(j, lo)) // overlap of [j, j+1) with [lo, hi)
                            : lanczos3((j + 0.5 - center) / stretch);            // distance between pixel centres
                    sum += wt[j - from];
                }
                for (int k = 0; k < wt.length; k++) {
                    wt[k] /= sum;
                }
                first[i] = from;
                count[i] = wt.length;
                weight[i] = wt;
            }
            return new Weights(first, count, weight);
        }
    }

    private static double lanczos3(double x) {
        if (x == 0) {
            return 1;
        }
        if (Math.abs(x) >= 3) {
            return 0;
        }
        double px = Math.PI * x;
        return 3 * Math.sin(px) * Math.sin(px / 3) / (px * px);
    }
}
