package sdj.ops;

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
        if (bias != null && (bias.dim() != 1 || bias.size(0) != weight.size(0))) {
            Tensor y = matmul(x, weight.transpose(0, 1)); // an unusual bias: broadcast by add
            return y.add(bias);
        }
        requireMatmulShapes(x, weight.transpose(0, 1));
        Tensor y = backend.linear(x, weight, bias);
        Tensor[] inputs = bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
        return Autograd.record(y, "linear", inputs, g -> {
            int out = weight.size(0);
            Tensor dx = x.requiresGrad() ? Grads.fit(x, g.matmul(weight)) : null;
            Tensor dw = weight.requiresGrad()
                    ? Grads.fit(weight, g.reshape(-1, out).transpose(0, 1).matmul(x.reshape(-1, weight.size(1))))
                    : null;
            Tensor db = bias != null && bias.requiresGrad() ? Grads.fit(bias, Reduce.sumToShape(g, bias.shape())) : null;
            return bias == null ? new Tensor[] {dx, dw} : new Tensor[] {dx, dw, db};
        });
    }
}
