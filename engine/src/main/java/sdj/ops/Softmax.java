package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Tensor;

/** Softmax over the last dim (max-subtracted); backward dx = y·(g − Σ g·y). */
public final class Softmax {
    private Softmax() {
    }

    public static Tensor softmax(Tensor x) {
        Backend backend = Backends.of("softmax", x);
        return Grads.record("softmax", new Tensor[] {x}, backend.softmax(x, Autograd.willRecord(x)));
    }
}
