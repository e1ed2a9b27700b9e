package sdj.ops;

import sdj.backend.cpu.Parallel;
import sdj.tensor.Autograd;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * GEGLU on the CPU in one pass per row: x [..., 2F] = [value | gate] → value·GELU(gate), read straight
 * from the projection's rows. Composed from chunk, gelu and mul it copied the strided gate half,
 * wrote GELU(gate) and then the product: three F-wide arrays per row instead of one.
 * Backward: d value = dy·GELU(gate), d gate = dy·value·GELU'(gate).
 */
final class Geglu {
    private Geglu() {
    }

    static Tensor geglu(Tensor x) {
        int width = x.size(-1);
        if (width % 2 != 0) {
            throw new IllegalArgumentException("GEGLU splits the last dimension in halves, got " + Shape.str(x.shape()));
        }
        int f = width / 2;
        int rows = Math.toIntExact(x.numel() / width);
        float[] xv = x.floats();
        float[] out = new float[rows * f];
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
        return Autograd.record(y, "geglu", new Tensor[] {x}, gy -> {
            float[] g = gy.floats();
            float[] gx = new float[xv.length];
            Parallel.range(rows, 60L * f, (r0, r1) -> {
                float[] gelu = new float[f];
                for (int r = r0; r < r1; r++) {
                    int in = r * width;
                    int o = r * f;
                    VectorMath.gelu(xv, in + f, gelu, 0, f);
                    for (int j = 0; j < f; j++) {
                        gx[in + j] = g[o + j] * gelu[j];
                        gx[in + f + j] = g[o + j] * xv[in + j] * Unary.geluGrad(xv[in + f + j], gelu[j]);
                    }
                }
            });
            return new Tensor[] {Tensor.of(gx, x.shape())};
        });
    }
}
