package sdj.sd.vae;

import java.util.function.UnaryOperator;
import sdj.tensor.ActivationArena;
import sdj.tensor.Tensor;

/**
 * The VAE's layers run one after another, each reading only the previous one's output. Each runs in its own
 * activation-arena scope that takes over that input, so at 512² (128 MiB per activation) an output returns to
 * the pool as soon as the next layer has read it: the decoder allocates almost nothing after its first run,
 * and holds a few activations at a time, not every one until the end.
 */
final class LayerChain {
    private LayerChain() {
    }

    /** {@code layer(input)} in a scope of its own that recycles {@code input} if the enclosing scope made it. */
    static Tensor step(UnaryOperator<Tensor> layer, Tensor input) {
        try (var arena = ActivationArena.open()) {
            arena.adopt(input);
            return arena.keep(layer.apply(input));
        }
    }
}
