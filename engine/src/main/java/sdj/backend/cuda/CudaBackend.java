package sdj.backend.cuda;

import java.lang.ref.Reference;
import java.util.Arrays;
import sdj.tensor.AdamWStep;
import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.BinaryOp;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;
import sdj.tensor.UnaryOp;

/**
 * The CUDA backend: the {@link Backend} primitives on our kernels (and cuBLASLt where present). Inputs
 * are {@link Tensor}s over {@link CudaStorage}; results are fresh contiguous CUDA tensors in the compute
 * dtype: ops with weights compute in the weight's dtype (a model loaded with {@code --precision fp16}
 * runs in fp16 whatever the input's dtype), elementwise ops on two dtypes in fp32. Accumulation is fp32
 * in every kernel. Layout, elementwise ops and reductions are here; the layers (products, convolution,
 * normalisation, attention, lookup) are in {@link CudaLayers}.
 */
public final class CudaBackend implements Backend {
    private final CudaLayers layers = new CudaLayers();

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public boolean available() {
        return Cuda.available();
    }

    @Override
    public String unavailableReason() {
        return Cuda.unavailableReason();
    }

    // ------------------------------------------------------------------ memory and layout

    @Override
    public Tensor transfer(Tensor t, Device target, DType dtype) {
        if (target == Device.CUDA && !t.isCuda()) {
            DType to = dtype != null ? dtype : deviceDtype(t.dtype());
            return CudaStorage.wrap(CudaTensor.upload(CudaOps.shared().device(), t, to));
        }
        if (target == Device.CUDA) {
            return cast(t, dtype == null ? t.dtype() : dtype);
        }
        // to the host: one device-to-host copy of a contiguous buffer, then any dtype change on the host
        try (Operands in = new Operands("cpu()", t)) {
            Tensor host = in.get(t).toHost();
            return dtype == null || dtype == host.dtype() ? host : host.to(dtype);
        }
    }

    /** The dtype a host tensor keeps on the GPU: floats as they are (f64 → f32), integers as int32 ids. */
    private static DType deviceDtype(DType host) {
        return switch (host) {
            case F32, F16, BF16 -> host;
            case F64 -> DType.F32;
            default -> DType.I32;
        };
    }

    @Override
    public Tensor copy(Tensor t, DType dtype) {
        try (Operands in = new Operands("copy", t)) {
            if (dtype == null || t.dtype() == dtype) {
                return CudaStorage.wrap(StridedCopy.contiguous(t));
            }
            return CudaStorage.wrap(ElementwiseOps.cast(in.get(t), dtype));
        }
    }

    /** t in dtype: itself when already so and contiguous, else a fresh copy. */
    static Tensor cast(Tensor t, DType dtype) {
        try (Operands in = new Operands("to(" + dtype + ")", t)) {
            CudaTensor x = in.get(t);
            if (x.dtype() == dtype) {
                return t.isContiguous() ? t : CudaStorage.wrap(StridedCopy.contiguous(t));
            }
            return CudaStorage.wrap(ElementwiseOps.cast(x, dtype));
        }
    }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        return CudaStorage.wrap(CudaTensor.zeros(CudaOps.shared().device(), dtype, shape));
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        try (Operands in = new Operands("copy_", src, dst)) {
            Tensor from = src.dtype() == dst.dtype() ? src : cast(src, dst.dtype());
            StridedCopy.copy(from, CudaStorage.of(dst).buffer(), dst.offset(), dst.strides());
            Reference.reachabilityFence(from); // a cast copy must outlive the queued copy kernel's launch
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        try (Operands in = new Operands(op.name().toLowerCase(), a, b)) {
            DType dt = common(a.dtype(), b.dtype());
            int[] out = Shape.broadcast(a.shape(), b.shape());
            Tensor left = Arrays.equals(a.shape(), out) ? a : a.expand(out);
            // The kernel broadcasts a bias over trailing dims or per channel; anything else is materialised.
            Tensor right = kernelBroadcasts(out, b.shape()) ? b : b.expand(out);
            int code = switch (op) {
                case ADD -> ElementwiseOps.ADD;
                case SUB -> ElementwiseOps.SUB;
                case MUL -> ElementwiseOps.MUL;
                case DIV -> ElementwiseOps.DIV;
            };
            return CudaStorage.wrap(ElementwiseOps.binary(code, in.get(left, dt), in.get(right, dt)));
        }
    }

    /** The shapes ElementwiseOps.binary reads in place: b a suffix of out (leading ones aside) or [C, 1, 1] of 4-D. */
    private static boolean kernelBroadcasts(int[] out, int[] b) {
        int i = 0;
        while (i < b.length - 1 && b[i] == 1) {
            i++;
        }
        int[] bs = Arrays.copyOfRange(b, i, b.length);
        if (bs.length <= out.length && Arrays.equals(bs, Arrays.copyOfRange(out, out.length - bs.length, out.length))) {
            return true;
        }
        return out.length == 4 && bs.length == 3 && bs[0] == out[1] && bs[1] == 1 && bs[2] == 1;
    }

    @Override
    public Tensor affine(Tensor x, float scale, float shift) {
        try (Operands in = new Operands("affine", x)) {
            return CudaStorage.wrap(ElementwiseOps.affine(in.get(x), scale, shift));
        }
    }

    /** elementwise.cu's activation kernels, with activation_backward for the gradient. */
    @Override
    public Result unary(UnaryOp op, float p, Tensor x, boolean keep) {
        Activation act = Activation.valueOf(op.name());
        try (Operands in = new Operands(op.label, x)) {
            Tensor y = CudaStorage.wrap(ElementwiseOps.activation(act, in.get(x), p));
            if (!keep) {
                return Result.of(y);
            }
            return new Result(y, g -> {
                try (Operands gin = new Operands(op.label + " backward", x, g)) {
                    return new Tensor[] {CudaStorage.wrap(
                            ElementwiseOps.activationBackward(act, gin.get(x), gin.get(g, x.dtype()), p))};
                }
            });
        }
    }

    /** SD's GEGLU in one kernel; geglu_backward for dx. */
    @Override
    public Result geglu(Tensor x, boolean keep) {
        try (Operands in = new Operands("geglu", x)) {
            Tensor y = CudaStorage.wrap(ElementwiseOps.geglu(in.get(x)));
            if (!keep) {
                return Result.of(y);
            }
            return new Result(y, g -> {
                try (Operands gin = new Operands("geglu backward", x, g)) {
                    return new Tensor[] {CudaStorage.wrap(ElementwiseOps.gegluBackward(gin.get(x), gin.get(g, x.dtype())))};
                }
            });
        }
    }

    @Override
    public Result softmax(Tensor x, boolean keep) {
        return layers.softmax(x, keep);
    }

    /**
     * Sum in fp32 (an fp16 sum of a loss would overflow long before its mean does). x is read as
     * [outer, mid, inner] by sum_keep_middle when the kept dims are one block (bias gradients,
     * per-channel sums, sum of all); otherwise the kept dims are permuted to the front first.
     */
    @Override
    public Tensor sum(Tensor x, boolean[] reduce, int[] outShape) {
        try (Operands in = new Operands("sum", x)) {
            int[] s = x.shape();
            int first = -1;
            int last = -1;
            for (int d = 0; d < s.length; d++) {
                if (!reduce[d] && s[d] != 1) {
                    first = first < 0 ? d : first;
                    last = d;
                }
            }
            boolean oneBlock = true;
            for (int d = Math.max(first, 0); d <= last; d++) {
                oneBlock &= !reduce[d] || s[d] == 1;
            }
            Tensor src = x;
            if (!oneBlock) {
                src = x.permute(Shape.keptFirst(reduce));
                first = 0;
                last = Shape.keptShape(s, reduce).length - 1;
            }
            int[] ss = src.shape();
            long outer = 1;
            long mid = 1;
            long inner = 1;
            for (int d = 0; d < ss.length; d++) {
                if (first < 0 || d < first) {
                    outer *= ss[d];
                } else if (d <= last) {
                    mid *= ss[d];
                } else {
                    inner *= ss[d];
                }
            }
            CudaTensor sums = NormOps.sumKeepMiddle(in.get(src), outer, Math.toIntExact(mid), inner);
            return CudaStorage.wrap(sums).view(outShape);
        }
    }

    // ------------------------------------------------------------------ products and layers

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        return layers.matmul(a, b);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return layers.linear(x, weight, bias);
    }

    @Override
    public Tensor linearSum(Tensor x, Tensor weight, Tensor bias, Tensor x2, Tensor weight2) {
        // two GEMMs and an add: the adapter's term is rank-sized, and the device has the bandwidth
        try (var scope = Autograd.noGrad()) {
            return layers.linear(x, weight, bias).add(layers.linear(x2, weight2, null));
        }
    }

    @Override
    public Result conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int[] padding, boolean keep) {
        return layers.conv2d(x, weight, bias, stride, padding, keep);
    }

    @Override
    public Result groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu, boolean keep) {
        return layers.groupNorm(x, groups, weight, bias, eps, silu, keep);
    }

    @Override
    public Result layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, boolean keep) {
        return layers.layerNorm(x, weight, bias, eps, keep);
    }

    @Override
    public Result attention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale, boolean keep) {
        return layers.attention(q, k, v, heads, causal, scale, keep);
    }

    @Override
    public Result embedding(Tensor ids, Tensor weight, boolean keep) {
        return layers.embedding(ids, weight, keep);
    }

    @Override
    public Result upsampleNearest2x(Tensor x, boolean keep) {
        return layers.upsampleNearest2x(x, keep);
    }

    // ------------------------------------------------------------------ in place

    /** dst += alpha·src: the sum computed by the elementwise kernels, written back through dst's strides. */
    @Override
    public void addInPlace(Tensor dst, Tensor src, float alpha) {
        Tensor scaled = alpha == 1f ? src : affine(src, alpha, 0f);
        copyInto(binary(BinaryOp.ADD, dst, scaled), dst);
    }

    @Override
    public void scaleInPlace(Tensor dst, float s) {
        copyInto(affine(dst, s, 0f), dst);
    }

    /** The parameter and its moments are updated in their own memory, so they must be contiguous device tensors. */
    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        for (Tensor t : new Tensor[] {param, m, v}) {
            if (!t.isContiguous()) {
                throw new IllegalArgumentException("adamw updates contiguous tensors in place, got the view " + t
                        + "; keep parameters and optimizer state as whole tensors");
            }
        }
        try (Operands in = new Operands("adamw", param, grad, m, v)) {
            OptimOps.adamw(in.get(param), in.get(grad, DType.F32), in.get(m), in.get(v), step);
        }
    }

    /** One dtype for two operands: the same one, else fp32 (the only dtype wider than both halves). */
    static DType common(DType a, DType b) {
        return a == b ? a : DType.F32;
    }
}
