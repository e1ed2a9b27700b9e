package sdj.bench.profile;

import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import sdj.tensor.AdamWStep;
import sdj.tensor.Backend;
import sdj.tensor.BinaryOp;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.tensor.UnaryOp;

/**
 * A backend that runs every primitive on the real one and charges its time, FLOPs ({@link OpCosts})
 * and bytes to an {@link OpProfile}. The backward primitives it hands to autograd are timed the same
 * way when autograd calls them. It changes no result: the same kernels run on the same tensors.
 */
final class ProfilingBackend implements Backend {
    private final Backend inner;
    private final OpProfile profile;

    ProfilingBackend(Backend inner, OpProfile profile) {
        this.inner = inner;
        this.profile = profile;
    }

    private <T> T timed(String type, Supplier<T> op, ToDoubleFunction<T> flops, ToDoubleFunction<T> bytes) {
        long t0 = profile.begin();
        T out = null;
        try {
            out = op.get();
            return out;
        } finally {
            profile.end(t0, type, out == null ? 0 : flops.applyAsDouble(out), out == null ? 0 : bytes.applyAsDouble(out));
        }
    }

    private void timed(String type, Runnable op, double flops, double bytes) {
        long t0 = profile.begin();
        try {
            op.run();
        } finally {
            profile.end(t0, type, flops, bytes);
        }
    }

    /** An op with one output tensor: flops from it, bytes = inputs + output. */
    private Tensor tensorOp(String type, Supplier<Tensor> op, ToDoubleFunction<Tensor> flops, Tensor... inputs) {
        double in = OpCosts.bytes(inputs);
        return timed(type, op, flops, y -> in + OpCosts.bytes(y));
    }

    /**
     * An op with a backward primitive: the forward as {@link #tensorOp}, its backward charged when
     * autograd calls it, with {@code backwardFlops(grads returned)}.
     */
    private Result resultOp(String type, Supplier<Result> op, ToDoubleFunction<Tensor> flops,
            ToDoubleFunction<Tensor[]> backwardFlops, Tensor... inputs) {
        double in = OpCosts.bytes(inputs);
        Result r = timed(type, op, x -> flops.applyAsDouble(x.out()), x -> in + OpCosts.bytes(x.out()));
        if (r.gradients() == null) {
            return r;
        }
        Gradients inner = r.gradients();
        return new Result(r.out(), g -> {
            long t0 = profile.begin();
            Tensor[] grads = null;
            try {
                grads = inner.of(g);
                return grads;
            } finally {
                double bytes = in + OpCosts.bytes(g) + (grads == null ? 0 : OpCosts.bytes(grads));
                profile.end(t0, type + " backward", grads == null ? 0 : backwardFlops.applyAsDouble(grads), bytes);
            }
        });
    }

    private static ToDoubleFunction<Tensor[]> perGradElement() {
        return grads -> {
            double n = 0;
            for (Tensor t : grads) {
                n += OpCosts.elements(t);
            }
            return n;
        };
    }

    @Override
    public Device device() {
        return inner.device();
    }

    @Override
    public boolean available() {
        return inner.available();
    }

    @Override
    public String unavailableReason() {
        return inner.unavailableReason();
    }

    @Override
    public Tensor transfer(Tensor t, Device target, DType dtype) {
        return tensorOp(OpTypes.COPY, () -> inner.transfer(t, target, dtype), y -> 0, t);
    }

    @Override
    public Tensor copy(Tensor t, DType dtype) {
        return tensorOp(OpTypes.COPY, () -> inner.copy(t, dtype), y -> 0, t);
    }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        return tensorOp(OpTypes.FILL, () -> inner.zeros(dtype, shape), y -> 0);
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        timed(OpTypes.COPY, () -> inner.copyInto(src, dst), 0, 2 * OpCosts.bytes(src));
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        return tensorOp(OpTypes.ELEMENTWISE, () -> inner.binary(op, a, b), OpCosts::elements, a, b);
    }

    @Override
    public Tensor affine(Tensor x, float scale, float shift) {
        return tensorOp(OpTypes.ELEMENTWISE, () -> inner.affine(x, scale, shift), OpCosts::elements, x);
    }

    @Override
    public Result unary(UnaryOp op, float p, Tensor x, boolean keep) {
        return resultOp(OpTypes.ELEMENTWISE, () -> inner.unary(op, p, x, keep), OpCosts::elements, perGradElement(), x);
    }

    @Override
    public Result geglu(Tensor x, boolean keep) {
        return resultOp(OpTypes.GEGLU, () -> inner.geglu(x, keep), OpCosts::elements, perGradElement(), x);
    }

    @Override
    public Result softmax(Tensor x, boolean keep) {
        return resultOp(OpTypes.SOFTMAX, () -> inner.softmax(x, keep), OpCosts::elements, perGradElement(), x);
    }

    @Override
    public Tensor sum(Tensor x, boolean[] reduce, int[] outShape) {
        return tensorOp(OpTypes.REDUCE, () -> inner.sum(x, reduce, outShape), y -> OpCosts.elements(x), x);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        double[] out = new double[1];
        // a multiply and an add per element, reading x once
        timed(OpTypes.REDUCE, () -> out[0] = inner.sumOfSquares(x), 2 * OpCosts.elements(x), OpCosts.bytes(x));
        return out[0];
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        return tensorOp(OpTypes.MATMUL, () -> inner.matmul(a, b), y -> OpCosts.matmul(a, y), a, b);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return tensorOp(OpTypes.LINEAR, () -> inner.linear(x, weight, bias), y -> OpCosts.linear(weight, y), x, weight,
                bias);
    }

    @Override
    public Tensor linearSum(Tensor x, Tensor weight, Tensor bias, Tensor x2, Tensor weight2) {
        return tensorOp(OpTypes.LINEAR, () -> inner.linearSum(x, weight, bias, x2, weight2),
                y -> OpCosts.linear(weight, y) + OpCosts.linear(weight2, y), x, weight, bias, x2, weight2);
    }

    @Override
    public Result conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int[] padding, boolean keep) {
        double[] forward = new double[1];
        double[] outElements = new double[1];
        return resultOp(OpTypes.CONV, () -> inner.conv2d(x, weight, bias, stride, padding, keep), y -> {
            forward[0] = OpCosts.conv(weight, y);
            outElements[0] = y.numel();
            return forward[0];
        }, grads -> {
            // the data and the weight gradient are each a product as large as the forward
            double f = 0;
            for (int i = 0; i < grads.length; i++) {
                if (grads[i] != null) {
                    f += i < 2 ? forward[0] : outElements[0];
                }
            }
            return f;
        }, x, weight, bias);
    }

    @Override
    public Result groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu, boolean keep) {
        return resultOp(silu ? OpTypes.GROUP_NORM_SILU : OpTypes.GROUP_NORM,
                () -> inner.groupNorm(x, groups, weight, bias, eps, silu, keep), OpCosts::elements, perGradElement(), x,
                weight, bias);
    }

    @Override
    public Result layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, boolean keep) {
        return resultOp(OpTypes.LAYER_NORM, () -> inner.layerNorm(x, weight, bias, eps, keep), OpCosts::elements,
                perGradElement(), x, weight, bias);
    }

    @Override
    public Result attention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale, boolean keep) {
        return resultOp(OpTypes.ATTENTION, () -> inner.attention(q, k, v, heads, causal, scale, keep),
                y -> OpCosts.attention(q, k, v), grads -> OpCosts.attentionBackward(q, k, v), q, k, v);
    }

    @Override
    public Result embedding(Tensor ids, Tensor weight, boolean keep) {
        return resultOp(OpTypes.EMBEDDING, () -> inner.embedding(ids, weight, keep), y -> 0, perGradElement(), ids);
    }

    @Override
    public Result upsampleNearest2x(Tensor x, boolean keep) {
        return resultOp(OpTypes.UPSAMPLE, () -> inner.upsampleNearest2x(x, keep), y -> 0, perGradElement(), x);
    }

    @Override
    public void addInPlace(Tensor dst, Tensor src, float alpha) {
        timed(OpTypes.ELEMENTWISE, () -> inner.addInPlace(dst, src, alpha), OpCosts.elements(dst),
                2 * OpCosts.bytes(dst) + OpCosts.bytes(src));
    }

    @Override
    public void scaleInPlace(Tensor dst, float s) {
        timed(OpTypes.ELEMENTWISE, () -> inner.scaleInPlace(dst, s), OpCosts.elements(dst), 2 * OpCosts.bytes(dst));
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        // read and write param, m and v, read grad
        timed(OpTypes.OPTIMIZER, () -> inner.adamwStep(param, grad, m, v, step), OpCosts.elements(param),
                2 * OpCosts.bytes(param, m, v) + OpCosts.bytes(grad));
    }
}
