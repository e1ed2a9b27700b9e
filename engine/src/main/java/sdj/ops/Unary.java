package sdj.ops;

import sdj.backend.cpu.Parallel;
import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * Elementwise functions of one tensor. Each is a forward map f(x) plus its derivative, written
 * in terms of the input x and the output y = f(x) so backward is one fused pass g·f'(x).
 */
public final class Unary {
    private Unary() {
    }

    @FunctionalInterface
    interface Fn {
        float apply(float x);
    }

    @FunctionalInterface
    interface Derivative {
        float at(float x, float y);
    }

    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final float INV_SQRT_2 = 0.7071067811865476f;

    /** A vectorized forward over in[lo, hi) → out[lo, hi). */
    @FunctionalInterface
    interface ArrayFn {
        void apply(float[] in, float[] out, int lo, int hi);
    }

    static Tensor map(Tensor x, String name, Fn f, Derivative df) {
        return map(x, name, (in, out, lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                out[i] = f.apply(in[i]);
            }
        }, df);
    }

    static Tensor map(Tensor x, String name, ArrayFn f, Derivative df) {
        if (x.isCuda()) {
            return CudaDispatch.unary(name, x);
        }
        float[] in = x.floats();
        float[] out = new float[in.length];
        Parallel.range(in.length, 8, (lo, hi) -> f.apply(in, out, lo, hi));
        Tensor y = Tensor.of(out, x.shape());
        return Autograd.record(y, name, new Tensor[] {x}, g -> {
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

    public static Tensor neg(Tensor x) {
        return map(x, "neg", v -> -v, (v, y) -> -1f);
    }

    public static Tensor addScalar(Tensor x, float s) {
        if (x.isCuda()) {
            return CudaDispatch.affine("add_scalar", x, 1f, s);
        }
        return map(x, "add_scalar", v -> v + s, (v, y) -> 1f);
    }

    public static Tensor mulScalar(Tensor x, float s) {
        if (x.isCuda()) {
            return CudaDispatch.affine("mul_scalar", x, s, 0f);
        }
        return map(x, "mul_scalar", v -> v * s, (v, y) -> s);
    }

    public static Tensor exp(Tensor x) {
        return map(x, "exp", v -> (float) Math.exp(v), (v, y) -> y);
    }

    public static Tensor log(Tensor x) {
        return map(x, "log", v -> (float) Math.log(v), (v, y) -> 1f / v);
    }

    public static Tensor sqrt(Tensor x) {
        return map(x, "sqrt", v -> (float) Math.sqrt(v), (v, y) -> 0.5f / y);
    }

    public static Tensor rsqrt(Tensor x) {
        return map(x, "rsqrt", v -> (float) (1.0 / Math.sqrt(v)), (v, y) -> -0.5f * y * y * y);
    }

    public static Tensor pow(Tensor x, float p) {
        if (x.isCuda()) {
            return CudaDispatch.pow(x, p);
        }
        return map(x, "pow", v -> (float) Math.pow(v, p), (v, y) -> p * (float) Math.pow(v, p - 1));
    }

    public static Tensor square(Tensor x) {
        return map(x, "square", v -> v * v, (v, y) -> 2f * v);
    }

    public static Tensor tanh(Tensor x) {
        return map(x, "tanh", v -> (float) Math.tanh(v), (v, y) -> 1f - y * y);
    }

    public static Tensor sigmoid(Tensor x) {
        return map(x, "sigmoid", Unary::sigmoidOf, (v, y) -> y * (1f - y));
    }

    public static Tensor silu(Tensor x) {
        return map(x, "silu", VectorMath::silu, (v, y) -> {
            float s = sigmoidOf(v);
            return s * (1f + v * (1f - s));
        });
    }

    /** x·σ(1.702x), the activation of OpenAI's CLIP. */
    public static Tensor quickGelu(Tensor x) {
        return map(x, "quick_gelu", v -> v * sigmoidOf(1.702f * v), (v, y) -> {
            float s = sigmoidOf(1.702f * v);
            return s + 1.702f * v * s * (1f - s);
        });
    }

    /** Exact GELU, x·Φ(x) with the error function. */
    public static Tensor gelu(Tensor x) {
        return map(x, "gelu", VectorMath::gelu, Unary::geluGrad);
    }

    /** GELU's tanh approximation. */
    public static Tensor geluTanh(Tensor x) {
        return map(x, "gelu_tanh", v -> {
            float u = SQRT_2_OVER_PI * (v + 0.044715f * v * v * v);
            return 0.5f * v * (1f + (float) Math.tanh(u));
        }, (v, y) -> {
            float u = SQRT_2_OVER_PI * (v + 0.044715f * v * v * v);
            float t = (float) Math.tanh(u);
            float du = SQRT_2_OVER_PI * (1f + 3f * 0.044715f * v * v);
            return 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * du;
        });
    }

    public static float sigmoidOf(float v) {
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
}
