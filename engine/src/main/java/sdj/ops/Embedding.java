package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Tensor;

/** Row gather from a [V, D] table by integer ids; backward scatter-adds into the table's gradient. */
public final class Embedding {
    private Embedding() {
    }

    public static Tensor embedding(Tensor ids, Tensor weight) {
        Backend backend = Backends.of("embedding", ids, weight);
        Tensor[] inputs = {ids, weight};
        return Grads.record("embedding", inputs, backend.embedding(ids, weight, Autograd.willRecord(inputs)));
    }
}
