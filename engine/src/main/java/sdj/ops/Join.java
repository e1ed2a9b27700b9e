package sdj.ops;

import java.util.ArrayList;
import java.util.List;
import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** cat / split / chunk along a dimension, and the zero-padded gradient of narrow. */
public final class Join {
    private Join() {
    }

    public static Tensor cat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("cat of no tensors");
        }
        int rank = parts.get(0).dim();
        int d = Shape.wrap(dim, rank);
        int[] outShape = parts.get(0).shape();
        int total = 0;
        for (Tensor p : parts) {
            int[] s = p.shape();
            if (s.length != rank) {
                throw new IllegalArgumentException("cat of tensors of different rank: " + Shape.str(outShape) + " and "
                        + Shape.str(s));
            }
            for (int i = 0; i < rank; i++) {
                if (i != d && s[i] != outShape[i]) {
                    throw new IllegalArgumentException("cat along dim " + d + " of " + Shape.str(outShape) + " and "
                            + Shape.str(s) + ": other dims must match");
                }
            }
            total += s[d];
        }
        outShape[d] = total;
        Tensor[] inputs = parts.toArray(new Tensor[0]);
        Backend backend = Backends.of("cat", inputs);
        DType dtype = inputs[0].dtype();
        for (Tensor p : inputs) {
            dtype = p.dtype() == dtype ? dtype : DType.F32; // mixed halves meet in fp32
        }
        Tensor y = backend.zeros(dtype, outShape);
        int[] starts = new int[inputs.length];
        int at = 0;
        for (int i = 0; i < inputs.length; i++) {
            starts[i] = at;
            backend.copyInto(inputs[i], y.narrow(d, at, inputs[i].size(d)));
            at += inputs[i].size(d);
        }
        return Autograd.record(y, "cat", inputs, g -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                grads[i] = Grads.fit(inputs[i], g.narrow(d, starts[i], inputs[i].size(d)).contiguous());
            }
            return grads;
        });
    }

    /** Views of consecutive pieces of the given sizes along dim. */
    public static List<Tensor> split(Tensor x, int[] sizes, int dim) {
        List<Tensor> out = new ArrayList<>();
        int at = 0;
        for (int s : sizes) {
            out.add(x.narrow(dim, at, s));
            at += s;
        }
        if (at != x.size(dim)) {
            throw new IllegalArgumentException("split sizes sum to " + at + " but dim " + dim + " has " + x.size(dim));
        }
        return out;
    }

    /** n equal pieces along dim (the last may be smaller, as in torch.chunk). */
    public static List<Tensor> chunk(Tensor x, int n, int dim) {
        int len = x.size(dim);
        int step = (len + n - 1) / n;
        List<Integer> sizes = new ArrayList<>();
        for (int at = 0; at < len; at += step) {
            sizes.add(Math.min(step, len - at));
        }
        return split(x, sizes.stream().mapToInt(Integer::intValue).toArray(), dim);
    }

    /** Gradient of narrow: g placed at [start, start+len) along dim of a zero tensor of the input shape. */
    public static Tensor padNarrowGrad(Tensor g, int[] inShape, int dim, int start) {
        Backend backend = Backends.of("narrow backward", g);
        Tensor out = backend.zeros(g.dtype(), inShape);
        backend.copyInto(g, out.narrow(dim, start, g.size(dim)));
        return out;
    }
}
