package sdj.backend.cpu;

import sdj.tensor.ActivationArena;
import sdj.tensor.Backend;
import sdj.tensor.Tensor;
import sdj.tensor.UnaryOp;

/**
 * Elementwise functions of one tensor on the CPU. Each is a forward map f(x) plus its derivative,
 * written in terms of the input x and the output y = f(x), so backward is one fused pass g·f'(x).
 */
final class CpuUnary {
    private CpuUnary() {
    }

    @FunctionalInterface
    interface Fn {
        float apply(float x);
    }

    @FunctionalInterface
    interface Derivative {
        float at(float x, float y);
    }

    /** A vectorized forward over in[lo, hi) → out[lo, hi). */
    @FunctionalInterface
    interface ArrayFn {
        void apply(float[] in, float[] out, int lo, int hi);
    }

    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final float INV_SQRT_2 = 0.7071067811865476f;

    static Backend.Result apply(UnaryOp op, float p, Tensor x, boolean keep) {
        return switch (op) {
            case SILU -> map(x, keep, VectorMath::silu, (v, y) -> siluDerivative(v));
            case GELU -> map(x, keep, VectorMath::gelu, CpuUnary::geluGrad);
            case GELU_TANH -> map(x, keep, CpuUnary::geluTanhOf, CpuUnary::geluTanhGrad);
            case QUICK_GELU -> map(x, keep, VectorMath::quickGelu, (v, y) -> {
                float s = sigmoidOf(1.702f * v);
                return s + 1.702f * v * s * (1f - s);
            });
            case SIGMOID -> map(x, keep, CpuUnary::sigmoidOf, (v, y) -> y * (1f - y));
            case TANH -> map(x, keep, v -> (float) Math.tanh(v), (v, y) -> 1f - y * y);
            case EXP -> map(x, keep, v -> (float) Math.exp(v), (v, y) -> y);
            case LOG -> map(x, keep, v -> (float) Math.log(v), (v, y) -> 1f / v);
            case SQRT -> map(x, keep, v -> (float) Math.sqrt(v), (v, y) -> 0.5f / y);
            case RSQRT -> map(x, keep, v -> (float) (1.0 / Math.sqrt(v)), (v, y) -> -0.5f * y * y * y);
            case POW -> map(x, keep, v -> (float) Math.pow(v, p), (v, y) -> p * (float) Math.pow(v, p - 1));
        };
    }

    /** scale·x + shift, with the plain add or multiply when the other term is the identity (so −0 stays −0). */
    static Tensor affine(Tensor x, float scale, float shift) {
        Fn f = scale == 1f ? v -> v + shift : shift == 0f ? v -> v * scale : v -> v * scale + shift;
        return map(x, false, f, null).out();
    }

    private static Backend.Result map(Tensor x, boolean keep, Fn f, Derivative df) {
        return map(x, keep, (in, out, lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                out[i] = f.apply(in[i]);
            }
        }, df);
    }

    private static Backend.Result map(Tensor x, boolean keep, ArrayFn f, Derivative df) {
        float[] in = x.floats();
        float[] out = ActivationArena.floats(in.length);
        Parallel.range(in.length, 8, (lo, hi) -> f.apply(in, out, lo, hi));
        Tensor y = Tensor.of(out, x.shape());
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, g -> {
            float[] gv = g.floats();
            float[] gx = new float[in.length];
            Parallel.range(in.length, 8, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    gx[i] = gv[i] * df.at(in[i], out[i]);
                }
            });
            return new Tensor[] {Tensor.of(gx, x.shape())};
        });
    }

    /** d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))). */
    static float siluDerivative(float v) {
        float s = sigmoidOf(v);
        return s * (1f + v * (1f - s));
    }

    static float sigmoidOf(float v) {
        return (float) (1.0 / (1.0 + Math.exp(-v)));
    }

    static float geluOf(float v) {
        return 0.5f * v * (1f + (float) Erf.erf(v * INV_SQRT_2));
    }

    static float geluGrad(float v, float y) {
        double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT_2));
        double pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
        return (float) (cdf + v * pdf);
    }

    private static float geluTanhOf(float v) {
        float u = SQRT_2_OVER_PI * (v + 0.044715f * v * v * v);
        return 0.5f * v * (1f + (float) Math.tanh(u));
    }

    private static float geluTanhGrad(float v, float y) {
        float u = SQRT_2_OVER_PI * (v + 0.044715f * v * v * v);
        float t = (float) Math.tanh(u);
        float du = SQRT_2_OVER_PI * (1f + 3f * 0.044715f * v * v);
        return 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * du;
    }
}
