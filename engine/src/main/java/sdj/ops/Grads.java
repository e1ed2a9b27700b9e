package sdj.ops;

import java.util.Arrays;
import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Tensor;

/**
 * Where ops meet the tape: a backend's result is recorded once here, and each gradient a backward
 * produces is fitted to its input (shape and dtype), so neither backend has to.
 */
final class Grads {
    private Grads() {
    }

    /** Records r's backward primitive for inputs (when the backend kept one) and returns the output. */
    static Tensor record(String name, Tensor[] inputs, Backend.Result r) {
        if (r.gradients() == null) {
            return r.out();
        }
        return Autograd.record(r.out(), name, inputs, g -> fit(inputs, r.gradients().of(g)));
    }

    static Tensor[] fit(Tensor[] inputs, Tensor[] grads) {
        Tensor[] out = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            out[i] = fit(inputs[i], i < grads.length ? grads[i] : null);
        }
        return out;
    }

    /**
     * g as the gradient of input: null when the input wants none; summed over the dims it was broadcast
     * along (or reshaped when only the shape's spelling differs); in the input's dtype (an fp16 parameter
     * gets an fp16 gradient, whatever dtype the kernel accumulated in).
     */
    static Tensor fit(Tensor input, Tensor g) {
        if (input == null || g == null || !input.requiresGrad()) {
            return null;
        }
        if (!Arrays.equals(g.shape(), input.shape())) {
            g = g.numel() == input.numel() ? g.reshape(input.shape()) : Reduce.sumToShape(g, input.shape());
        }
        return g.dtype() == input.dtype() ? g : Backends.of(g.device()).copy(g, input.dtype());
    }
}
