package sdj.sd.vae;

import java.util.function.Supplier;
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

    /** {@code layer()} in a scope of its own, recycling nothing it did not make (its inputs are still needed). */
    static Tensor scoped(Supplier<Tensor> layer) {
        try (var arena = ActivationArena.open()) {
            return arena.keep(layer.get());
        }
    }

    /**
     * A step that changes the resolution (an up- or downsample). The pooled arrays of the sizes before it are not
     * asked for again in this pass; where they hold more than a quarter of the heap they go to the GC instead of
     * crowding it (at 512² with the launcher's 2 GiB the 256² level's would sit beside the 512² level's own and
     * run the decode out of memory). A larger heap keeps them for the next decode: allocating each level again
     * measured 5-20% slower.
     */
    static Tensor resample(UnaryOperator<Tensor> layer, Tensor input) {
        Tensor out = step(layer, input);
        if (ActivationArena.pooledBytes() > Runtime.getRuntime().maxMemory() / 4) {
            ActivationArena.releasePool();
        }
        return out;
    }
}
