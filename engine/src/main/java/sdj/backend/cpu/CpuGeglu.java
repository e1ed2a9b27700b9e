package sdj.backend.cpu;

import sdj.tensor.ActivationArena;
import sdj.tensor.Backend;
import sdj.tensor.Tensor;

/**
 * GEGLU on the CPU in one pass per row: x [..., 2F] = [value | gate] → value·GELU(gate), read straight
 * from the projection's rows (composed from chunk, gelu and mul it took three F-wide arrays per row).
 * Backward: d value = dy·GELU(gate), d gate = dy·value·GELU'(gate), GELU' = Φ + gate·φ, all in vector lanes.
 */
final class CpuGeglu {
    private CpuGeglu() {
    }

    static Backend.Result geglu(Tensor x, boolean keep) {
        int width = x.size(-1);
        int f = width / 2;
        int rows = Math.toIntExact(x.numel() / width);
        float[] xv = x.floats();
        float[] out = ActivationArena.floats(rows * f);
        Parallel.range(rows, 40L * f, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int in = r * width;
                int o = r * f;
                VectorMath.gelu(xv, in + f, out, o, f); // GELU(gate) into the output row ...
                VectorMath.mul(out, o, xv, in, out, o, f); // ... times the value half
            }
        });
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = f;
        Tensor y = Tensor.of(out, outShape);
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, gy -> {
            float[] g = gy.floats();
            float[] gx = new float[xv.length];
            Parallel.range(rows, 60L * f, (r0, r1) -> {
                float[] cdf = new float[f];
                float[] pdf = new float[f];
                for (int r = r0; r < r1; r++) {
                    int in = r * width;
                    VectorMath.normalCdf(xv, in + f, cdf, 0, f);
                    VectorMath.normalPdf(xv, in + f, pdf, 0, f);
                    VectorMath.gegluGradRow(xv, in, g, r * f, cdf, pdf, gx, f);
                }
            });
            return new Tensor[] {Tensor.of(gx, x.shape())};
        });
    }
}
