package sdj.backend.cpu;

import sdj.tensor.ActivationArena;
import sdj.tensor.Backend;
import sdj.tensor.Tensor;

/** Softmax over the last dim (max-subtracted); backward dx = y·(g − Σ g·y). */
final class CpuSoftmax {
    private CpuSoftmax() {
    }

    static Backend.Result softmax(Tensor x, boolean keep) {
        int d = x.size(-1);
        float[] xv = x.floats();
        float[] out = ActivationArena.floats(xv.length);
        int rows = d == 0 ? 0 : xv.length / d;
        Parallel.range(rows, d * 8L, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                softmaxRow(xv, out, r * d, d);
            }
        });
        Tensor y = Tensor.of(out, x.shape());
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, gy -> {
            float[] g = gy.floats();
            float[] gx = new float[xv.length];
            Parallel.range(rows, d * 4L, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int base = r * d;
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += g[base + i] * out[base + i];
                    }
                    float dt = (float) dot;
                    for (int i = 0; i < d; i++) {
                        gx[base + i] = out[base + i] * (g[base + i] - dt);
                    }
                }
            });
            return new Tensor[] {Tensor.of(gx, x.shape())};
        });
    }

    /** In-place-capable softmax of one row of length d (src and dst may be the same array). */
    static void softmaxRow(float[] src, float[] dst, int base, int d) {
        float inv = expRow(src, dst, base, d, 1f);
        for (int i = 0; i < d; i++) {
            dst[base + i] *= inv;
        }
    }

    /**
     * The unnormalised softmax of one row, dst = exp((src − max)·scale), returning 1 / Σ dst so the caller
     * normalises where it is cheapest (attention: on the output row). A fully masked row (all −inf)
     * attends to nothing: dst is zeroed and 0 returned.
     */
    static float expRow(float[] src, float[] dst, int base, int d, float scale) {
        return expRow(src, dst, base, d, VectorMath.max(src, base, d), scale);
    }

    /** As above with the row's maximum already known (attention keeps it for its backward). */
    static float expRow(float[] src, float[] dst, int base, int d, float max, float scale) {
        if (max == Float.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(dst, base, base + d, 0f);
            return 0f;
        }
        return (float) (1.0 / VectorMath.expShifted(src, dst, base, d, max, scale));
    }
}
