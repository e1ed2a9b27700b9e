package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Tensor;
import sdj.tensor.UnaryOp;

/** Elementwise functions of one tensor; each backend computes f and f' (see {@link UnaryOp}). */
public final class Unary {
    private Unary() {
    }

    static Tensor apply(UnaryOp op, float p, Tensor x) {
        Backend backend = Backends.of(op.label, x);
        return Grads.record(op.label, new Tensor[] {x}, backend.unary(op, p, x, Autograd.willRecord(x)));
    }

    /** scale·x + shift; backward g·scale. */
    static Tensor affine(String name, Tensor x, float scale, float shift) {
        Tensor y = Backends.of(name, x).affine(x, scale, shift);
        return Autograd.record(y, name, new Tensor[] {x}, g -> new Tensor[] {Grads.fit(x, g.mul(scale))});
    }

    public static Tensor neg(Tensor x) {
        return affine("neg", x, -1f, 0f);
    }

    public static Tensor addScalar(Tensor x, float s) {
        return affine("add_scalar", x, 1f, s);
    }

    public static Tensor mulScalar(Tensor x, float s) {
        return affine("mul_scalar", x, s, 0f);
    }

    public static Tensor exp(Tensor x) {
        return apply(UnaryOp.EXP, 0f, x);
    }

    public static Tensor log(Tensor x) {
        return apply(UnaryOp.LOG, 0f, x);
    }

    public static Tensor sqrt(Tensor x) {
        return apply(UnaryOp.SQRT, 0f, x);
    }

    public static Tensor rsqrt(Tensor x) {
        return apply(UnaryOp.RSQRT, 0f, x);
    }

    public static Tensor pow(Tensor x, float p) {
        return apply(UnaryOp.POW, p, x);
    }

    /** x·x (backward 2·g·x, from the product's two identical terms). */
    public static Tensor square(Tensor x) {
        return Binary.mul(x, x);
    }

    public static Tensor tanh(Tensor x) {
        return apply(UnaryOp.TANH, 0f, x);
    }

    public static Tensor sigmoid(Tensor x) {
        return apply(UnaryOp.SIGMOID, 0f, x);
    }

    public static Tensor silu(Tensor x) {
        return apply(UnaryOp.SILU, 0f, x);
    }

    /** x·σ(1.702x), the activation of OpenAI's CLIP. */
    public static Tensor quickGelu(Tensor x) {
        return apply(UnaryOp.QUICK_GELU, 0f, x);
    }

    /** Exact GELU, x·Φ(x) with the error function. */
    public static Tensor gelu(Tensor x) {
        return apply(UnaryOp.GELU, 0f, x);
    }

    /** GELU's tanh approximation. */
    public static Tensor geluTanh(Tensor x) {
        return apply(UnaryOp.GELU_TANH, 0f, x);
    }

    /** GEGLU: x [..., 2F] = [value | gate] → value·GELU(gate), one pass (one kernel on the GPU). */
    public static Tensor geglu(Tensor x) {
        if (x.size(-1) % 2 != 0) {
            throw new IllegalArgumentException("GEGLU splits the last dimension in halves, got "
                    + sdj.tensor.Shape.str(x.shape()));
        }
        Backend backend = Backends.of("geglu", x);
        return Grads.record("geglu", new Tensor[] {x}, backend.geglu(x, Autograd.willRecord(x)));
    }
}
