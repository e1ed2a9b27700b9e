package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.BinaryOp;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** add, sub, mul, div with NumPy broadcasting; gradients are summed back to each input's shape. */
public final class Binary {
    private Binary() {
    }

    public static Tensor add(Tensor a, Tensor b) {
        Tensor y = compute(BinaryOp.ADD, a, b);
        return Autograd.record(y, "add", new Tensor[] {a, b}, g -> Grads.fit(new Tensor[] {a, b}, new Tensor[] {g, g}));
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor y = compute(BinaryOp.SUB, a, b);
        return Autograd.record(y, "sub", new Tensor[] {a, b},
                g -> new Tensor[] {Grads.fit(a, g), b.requiresGrad() ? Grads.fit(b, g.neg()) : null});
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor y = compute(BinaryOp.MUL, a, b);
        return Autograd.record(y, "mul", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? Grads.fit(a, g.mul(b)) : null,
            b.requiresGrad() ? Grads.fit(b, g.mul(a)) : null});
    }

    public static Tensor div(Tensor a, Tensor b) {
        Tensor y = compute(BinaryOp.DIV, a, b);
        // d(a/b)/db = −a/b² = −y/b
        return Autograd.record(y, "div", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? Grads.fit(a, g.div(b)) : null,
            b.requiresGrad() ? Grads.fit(b, g.mul(y).div(b).neg()) : null});
    }

    /** The op on the inputs' backend, not recorded; the shapes must broadcast. */
    private static Tensor compute(BinaryOp op, Tensor a, Tensor b) {
        Backend backend = Backends.of(op.name().toLowerCase(), a, b);
        Shape.broadcast(a.shape(), b.shape()); // one sentence naming both shapes when they do not broadcast
        return backend.binary(op, a, b);
    }
}
