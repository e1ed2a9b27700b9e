package sdj.ops;

import java.util.Arrays;
import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * matmul over the last two dims with broadcast batch dims, and linear (x·Wᵀ + b). Transposed views
 * are read in place by both backends' GEMMs (no copy), so {@code a.matmul(w.transpose(0, 1))} is as
 * fast as a plain product. Backward: dA = g·Bᵀ and dB = Aᵀ·g, summed over broadcast batch dims.
 */
public final class MatMul {
    private MatMul() {
    }

    public static Tensor matmul(Tensor a, Tensor b) {
        Backend backend = Backends.of("matmul", a, b);
        requireMatmulShapes(a, b);
        Tensor y = backend.matmul(a, b);
        return Autograd.record(y, "matmul", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? Grads.fit(a, g.matmul(b.transpose(-1, -2))) : null,
            b.requiresGrad() ? Grads.fit(b, gradOfRight(g, a, b)) : null});
    }

    private static void requireMatmulShapes(Tensor a, Tensor b) {
        if (a.dim() < 2 || b.dim() < 2) {
            throw new IllegalArgumentException("matmul needs operands of rank ≥ 2, got " + Shape.str(a.shape()) + " and "
                    + Shape.str(b.shape()));
        }
        if (a.size(-1) != b.size(-2)) {
            throw new IllegalArgumentException("matmul shapes " + Shape.str(a.shape()) + " · " + Shape.str(b.shape())
                    + " do not agree in the inner dimension");
        }
    }

    /** Aᵀ·g; a 2-D b shared by a's whole batch gets Σ over the batch as one product of the folded rows. */
    private static Tensor gradOfRight(Tensor g, Tensor a, Tensor b) {
        if (b.dim() == 2 && a.dim() > 2) {
            return a.reshape(-1, a.size(-1)).transpose(0, 1).matmul(g.reshape(-1, g.size(-1)));
        }
        return a.transpose(-1, -2).matmul(g);
    }

    /**
     * y = x·Wᵀ + bias with W stored [out, in] as in PyTorch's nn.Linear. Backward: dx = g·W, dW = gᵀ·x
     * over all rows, db = Σ g over rows.
     */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Backend backend = Backends.of("linear", x, weight, bias);
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("linear weight must be [out, in], got " + Shape.str(weight.shape()));
        }
        if (unusualBias(bias, weight)) {
            Tensor y = matmul(x, weight.transpose(0, 1)); // an unusual bias: broadcast by add
            return y.add(bias);
        }
        requireMatmulShapes(x, weight.transpose(0, 1));
        Tensor y = backend.linear(x, weight, bias);
        Tensor[] inputs = bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
        return Autograd.record(y, "linear", inputs, g -> {
            Tensor[] grads = linearGrads(g, x, weight, bias);
            return bias == null ? new Tensor[] {grads[0], grads[1]} : grads;
        });
    }

    /**
     * y = x·Wᵀ + bias + x2·W2ᵀ in one output array: a layer plus its low-rank adapter's up projection, without
     * the adapter's full-size intermediate and the pass that adds it. Backward as two linears sharing g.
     */
    public static Tensor linearSum(Tensor x, Tensor weight, Tensor bias, Tensor x2, Tensor weight2) {
        Backend backend = Backends.of("linear", x, weight, bias, x2, weight2);
        if (weight.dim() != 2 || weight2.dim() != 2 || weight2.size(0) != weight.size(0) || unusualBias(bias, weight)) {
            return linear(x, weight, bias).add(linear(x2, weight2, null));
        }
        requireMatmulShapes(x, weight.transpose(0, 1));
        requireMatmulShapes(x2, weight2.transpose(0, 1));
        if (!Arrays.equals(Arrays.copyOf(x.shape(), x.dim() - 1), Arrays.copyOf(x2.shape(), x2.dim() - 1))) {
            throw new IllegalArgumentException("linearSum rows differ: " + Shape.str(x.shape()) + " and "
                    + Shape.str(x2.shape()));
        }
        Tensor y = backend.linearSum(x, weight, bias, x2, weight2);
        Tensor[] inputs = bias == null ? new Tensor[] {x, weight, x2, weight2} : new Tensor[] {x, weight, x2, weight2, bias};
        return Autograd.record(y, "linear", inputs, g -> {
            Tensor[] first = linearGrads(g, x, weight, bias);
            Tensor[] second = linearGrads(g, x2, weight2, null);
            Tensor[] grads = {first[0], first[1], second[0], second[1], first[2]};
            return bias == null ? Arrays.copyOf(grads, 4) : grads;
        });
    }

    /** A bias other than one value per output feature (broadcast by add instead of folded into the GEMM). */
    private static boolean unusualBias(Tensor bias, Tensor weight) {
        return bias != null && (bias.dim() != 1 || bias.size(0) != weight.size(0));
    }

    /** {dx, dW, db} of y = x·Wᵀ + b for the output gradient g (null where no gradient is wanted). */
    private static Tensor[] linearGrads(Tensor g, Tensor x, Tensor weight, Tensor bias) {
        int out = weight.size(0);
        Tensor dx = x.requiresGrad() ? Grads.fit(x, g.matmul(weight)) : null;
        Tensor dw = weight.requiresGrad()
                ? Grads.fit(weight, g.reshape(-1, out).transpose(0, 1).matmul(x.reshape(-1, weight.size(1))))
                : null;
        Tensor db = bias != null && bias.requiresGrad() ? Grads.fit(bias, Reduce.sumToShape(g, bias.shape())) : null;
        return new Tensor[] {dx, dw, db};
    }
}
