package sdj.ops;

import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** Nearest-neighbour ×2 upsampling of [N, C, H, W]; backward sums each 2×2 block. */
public final class Resample {
    private Resample() {
    }

    public static Tensor upsampleNearest2x(Tensor x) {
        if (x.isCuda()) {
            return CudaDispatch.upsampleNearest2x(x);
        }
        int[] s = x.shape();
        int planes = s[0] * s[1];
        int h = s[2];
        int w = s[3];
        float[] xv = x.floats();
        float[] out = new float[planes * 4 * h * w];
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < h; i++) {
                int src = (p * h + i) * w;
                int dst0 = (p * 2 * h + 2 * i) * 2 * w;
                for (int j = 0; j < w; j++) {
                    float v = xv[src + j];
                    out[dst0 + 2 * j] = v;
                    out[dst0 + 2 * j + 1] = v;
                }
                System.arraycopy(out, dst0, out, dst0 + 2 * w, 2 * w);
            }
        }
        Tensor y = Tensor.of(out, s[0], s[1], 2 * h, 2 * w);
        return Autograd.record(y, "upsample_nearest2x", new Tensor[] {x}, gy -> {
            float[] g = gy.floats();
            float[] gx = new float[xv.length];
            for (int p = 0; p < planes; p++) {
                for (int i = 0; i < h; i++) {
                    int r0 = (p * 2 * h + 2 * i) * 2 * w;
                    int r1 = r0 + 2 * w;
                    for (int j = 0; j < w; j++) {
                        gx[(p * h + i) * w + j] = g[r0 + 2 * j] + g[r0 + 2 * j + 1] + g[r1 + 2 * j] + g[r1 + 2 * j + 1];
                    }
                }
            }
            return new Tensor[] {Tensor.of(gx, s)};
        });
    }
}
