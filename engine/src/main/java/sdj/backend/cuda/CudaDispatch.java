package sdj.backend.cuda;

import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.List;
import sdj.ops.Reduce;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * The CUDA route of the {@code sdj.ops} entry points: each op checks {@code isCuda()} on its inputs
 * first and, when set, lands here instead of in its CPU loop. Inputs are {@link Tensor}s over
 * {@link CudaStorage}; results are fresh contiguous CUDA tensors in the compute dtype:
 * <ul>
 *   <li>ops with weights (linear, conv2d, norms, embedding) compute in the weight's dtype, so a model
 *   loaded with {@code --precision fp16} runs in fp16 whatever the input's dtype;</li>
 *   <li>elementwise ops on two dtypes compute in fp32.</li>
 * </ul>
 * Accumulation is fp32 in every kernel.
 *
 * <p>Autograd: when {@link Autograd#willRecord} holds for an op's inputs, the op is recorded on the tape
 * as on the CPU, with a backward that runs on the GPU (the family's backward kernel, or tensor ops, which
 * route here for CUDA tensors). Each input gets its gradient in its own shape and dtype, as on the CPU;
 * parameter gradients the kernels accumulate in fp32 (norm dgamma/dbeta, embedding, biases) are
 * converted to the parameter's dtype at the end. Under {@code noGrad} nothing is kept for backward.
 */
public final class CudaDispatch {
    private static volatile CudaOps ops;

    private CudaDispatch() {
    }

    /** The op set on the first GPU; throws {@link CudaException} with the reason when there is none. */
    public static CudaOps ops() {
        CudaOps o = ops;
        if (o == null) {
            synchronized (CudaDispatch.class) {
                if (ops == null) {
                    ops = new CudaOps(Cuda.device());
                }
                o = ops;
            }
        }
        return o;
    }

    // ------------------------------------------------------------------ transfers and layout

    /** Tensor.to(device, dtype) when either side is CUDA (dtype null: keep it where the device can). */
    public static Tensor transfer(Tensor t, Device device, DType dtype) {
        if (device == Device.CUDA && !t.isCuda()) {
            DType target = dtype != null ? dtype : deviceDtype(t.dtype());
            return CudaStorage.wrap(CudaTensor.upload(ops().device(), t, target));
        }
        if (device == Device.CUDA) {
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

    private static Tensor cast(Tensor t, DType dtype) {
        try (Operands in = new Operands("to(" + dtype + ")", t)) {
            CudaTensor x = in.get(t);
            if (x.dtype() == dtype) {
                return t.isContiguous() ? t : CudaStorage.wrap(StridedCopy.contiguous(t));
            }
            return CudaStorage.wrap(ElementwiseOps.cast(x, dtype));
        }
    }

    public static Tensor contiguous(Tensor t) {
        try (Operands in = new Operands("contiguous", t)) {
            Tensor out = CudaStorage.wrap(StridedCopy.contiguous(t));
            return Autograd.record(out, "contiguous", new Tensor[] {t}, g -> new Tensor[] {g});
        }
    }

    /** A fresh contiguous copy of t in dtype, sharing nothing with t (a leaf's accumulated gradient). */
    public static Tensor copy(Tensor t, DType dtype) {
        try (Operands in = new Operands("copy", t)) {
            return CudaStorage.wrap(t.dtype() == dtype ? StridedCopy.contiguous(t) : ElementwiseOps.cast(in.get(t), dtype));
        }
    }

    /** The gradient of narrow: g written at [start, start + len) along dim of zeros of the input's shape. */
    public static Tensor padNarrowGrad(Tensor g, int[] inShape, int dim, int start) {
        try (Operands in = new Operands("narrow backward", g)) {
            Tensor out = CudaStorage.wrap(CudaTensor.zeros(ops().device(), g.dtype(), inShape));
            Tensor slot = out.narrow(dim, start, g.size(dim));
            StridedCopy.copy(g, CudaStorage.of(out).buffer(), slot.offset(), slot.strides());
            return out;
        }
    }

    /**
     * Sum over the dims flagged in {@code reduce} as fp32 (as on the CPU; an fp16 sum of a loss would
     * overflow long before its mean does), shaped {@code outShape}.
     * x is read as [outer, mid, inner] by sum_keep_middle when the kept dims are one block (bias gradients,
     * per-channel sums, sum of all); otherwise the kept dims are permuted to the front first.
     */
    public static Tensor sum(Tensor x, boolean[] reduce, int[] outShape) {
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
                src = x.permute(Reduce.keptFirst(reduce));
                first = 0;
                last = Reduce.keptShape(s, reduce).length - 1;
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

    /** torch.cat along dim: each part is copied into its slice of the output. */
    public static Tensor cat(List<Tensor> parts, int dim, int[] outShape) {
        try (Operands in = new Operands("cat", parts.toArray(new Tensor[0]))) {
            DType dt = parts.get(0).dtype();
            for (Tensor p : parts) {
                dt = common(dt, p.dtype());
            }
            Tensor out = CudaStorage.wrap(CudaTensor.empty(ops().device(), dt, outShape));
            CudaTensor outBuffer = CudaStorage.of(out).buffer();
            int at = 0;
            for (Tensor p : parts) {
                Tensor part = p.dtype() == dt ? p : cast(p, dt);
                Tensor slot = out.narrow(dim, at, p.size(dim));
                StridedCopy.copy(part, outBuffer, slot.offset(), slot.strides());
                Reference.reachabilityFence(part); // a cast copy must outlive the queued copy kernel's launch
                at += p.size(dim);
            }
            // Backward as in sdj.ops.Join: each part's slice of g, in the part's dtype.
            Tensor[] inputs = parts.toArray(new Tensor[0]);
            return Autograd.record(out, "cat", inputs, g -> {
                Tensor[] grads = new Tensor[inputs.length];
                int start = 0;
                for (int i = 0; i < inputs.length; i++) {
                    Tensor part = inputs[i];
                    int len = part.size(dim);
                    int from = start;
                    grads[i] = gradFor(part, () -> contiguous(g.narrow(dim, from, len)));
                    start += len;
                }
                return grads;
            });
        }
    }

    // ------------------------------------------------------------------ elementwise

    /** add/sub/mul/div with NumPy broadcasting (ElementwiseOps.ADD…DIV codes); not recorded. */
    private static Tensor binary(String name, int code, Tensor a, Tensor b) {
        try (Operands in = new Operands(name, a, b)) {
            DType dt = common(a.dtype(), b.dtype());
            int[] out = Shape.broadcast(a.shape(), b.shape());
            Tensor left = Arrays.equals(a.shape(), out) ? a : a.expand(out);
            // The kernel broadcasts a bias over trailing dims or per channel; anything else is materialised.
            Tensor right = kernelBroadcasts(out, b.shape()) ? b : b.expand(out);
            return CudaStorage.wrap(ElementwiseOps.binary(code, in.get(left, dt), in.get(right, dt)));
        }
    }

    // Backward as in sdj.ops.Binary: tensor ops on the device, summed back to each input's shape.

    public static Tensor add(Tensor a, Tensor b) {
        Tensor y = binary("add", ElementwiseOps.ADD, a, b);
        return Autograd.record(y, "add", new Tensor[] {a, b}, g -> new Tensor[] {gradFor(a, () -> g), gradFor(b, () -> g)});
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor y = binary("sub", ElementwiseOps.SUB, a, b);
        return Autograd.record(y, "sub", new Tensor[] {a, b},
                g -> new Tensor[] {gradFor(a, () -> g), gradFor(b, g::neg)});
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor y = binary("mul", ElementwiseOps.MUL, a, b);
        return Autograd.record(y, "mul", new Tensor[] {a, b},
                g -> new Tensor[] {gradFor(a, () -> g.mul(b)), gradFor(b, () -> g.mul(a))});
    }

    public static Tensor div(Tensor a, Tensor b) {
        Tensor y = binary("div", ElementwiseOps.DIV, a, b);
        // d(a/b)/db = -a/b² = -y/b
        return Autograd.record(y, "div", new Tensor[] {a, b},
                g -> new Tensor[] {gradFor(a, () -> g.div(b)), gradFor(b, () -> g.mul(y).div(b).neg())});
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

    /** scale·x + shift (neg, add_scalar, mul_scalar); backward g·scale. */
    public static Tensor affine(String name, Tensor x, float scale, float shift) {
        try (Operands in = new Operands(name, x)) {
            Tensor y = CudaStorage.wrap(ElementwiseOps.affine(in.get(x), scale, shift));
            return Autograd.record(y, name, new Tensor[] {x}, g -> {
                try (Operands gin = new Operands(name + " backward", g)) {
                    return new Tensor[] {CudaStorage.wrap(ElementwiseOps.affine(gin.get(g, x.dtype()), scale, 0f))};
                }
            });
        }
    }

    /**
     * sdj.ops.Unary's functions by name on elementwise.cu's activation kernels (activations, exp, log,
     * sqrt, rsqrt), with activation_backward for the gradient; square is x·x (so mse_loss runs on the
     * GPU), neg an affine map; pow, which needs its exponent, is {@link #pow}. That covers every Unary
     * function; one added there without a route here fails with the way back to the CPU.
     */
    public static Tensor unary(String name, Tensor x) {
        if (name.equals("square")) {
            return mul(x, x);
        }
        Activation act = switch (name) {
            case "silu" -> Activation.SILU;
            case "gelu" -> Activation.GELU;
            case "gelu_tanh" -> Activation.GELU_TANH;
            case "quick_gelu" -> Activation.QUICK_GELU;
            case "sigmoid" -> Activation.SIGMOID;
            case "tanh" -> Activation.TANH;
            case "exp" -> Activation.EXP;
            case "log" -> Activation.LOG;
            case "sqrt" -> Activation.SQRT;
            case "rsqrt" -> Activation.RSQRT;
            case "neg" -> null;
            default -> throw new UnsupportedOperationException(name + " has no CUDA kernel yet; run it on the cpu"
                    + " (tensor.cpu())");
        };
        if (act == null) {
            return affine(name, x, -1f, 0f);
        }
        return activation(name, act, 0f, x);
    }

    /** x^p elementwise (Math.pow's special cases); backward p·x^(p−1). */
    public static Tensor pow(Tensor x, float p) {
        return activation("pow", Activation.POW, p, x);
    }

    /** act(x) recorded with activation_backward; p is the kernels' parameter (pow's exponent). */
    private static Tensor activation(String name, Activation act, float p, Tensor x) {
        try (Operands in = new Operands(name, x)) {
            Tensor y = CudaStorage.wrap(ElementwiseOps.activation(act, in.get(x), p));
            return Autograd.record(y, name, new Tensor[] {x}, g -> {
                try (Operands gin = new Operands(name + " backward", x, g)) {
                    CudaTensor dx = ElementwiseOps.activationBackward(act, gin.get(x), gin.get(g, x.dtype()), p);
                    return new Tensor[] {CudaStorage.wrap(dx)};
                }
            });
        }
    }

    /** SD's GEGLU in one kernel: x [..., 2F] = [value | gate] → value · gelu(gate); geglu_backward for dx. */
    public static Tensor geglu(Tensor x) {
        try (Operands in = new Operands("geglu", x)) {
            Tensor y = CudaStorage.wrap(ElementwiseOps.geglu(in.get(x)));
            return Autograd.record(y, "geglu", new Tensor[] {x}, g -> {
                try (Operands gin = new Operands("geglu backward", x, g)) {
                    return new Tensor[] {CudaStorage.wrap(ElementwiseOps.gegluBackward(gin.get(x), gin.get(g, x.dtype())))};
                }
            });
        }
    }

    // ------------------------------------------------------------------ GEMM, convolution

    /** Backward as in sdj.ops.MatMul: dA = g·Bᵀ and dB = Aᵀ·g, summed over broadcast batch dims. */
    public static Tensor matmul(Tensor a, Tensor b) {
        DType dt = common(a.dtype(), b.dtype());
        Tensor left = a;
        Tensor right = b;
        if (b.dim() > 2 && !Arrays.equals(batchDims(a), batchDims(b))) {
            // CudaOps.matmul pairs batches one to one (or shares a 2-D b): broadcast batch dims first.
            int[] batch = Shape.broadcast(batchDims(a), batchDims(b));
            left = a.expand(withMatrix(batch, a));
            right = b.expand(withMatrix(batch, b));
        }
        Tensor y = product("matmul", left, false, right, false, dt);
        Tensor ea = left;
        Tensor eb = right;
        return Autograd.record(y, "matmul", new Tensor[] {a, b}, g -> new Tensor[] {
            gradFor(a, () -> product("matmul backward", g, false, eb, true, dt)),
            gradFor(b, () -> b.dim() == 2 && a.dim() > 2
                    // dW = Σ over a's batch of aᵀ·g as one product of the folded rows
                    ? product("matmul backward", a.reshape(-1, a.size(-1)), true, g.reshape(-1, g.size(-1)), false, dt)
                    : product("matmul backward", ea, true, g, false, dt))});
    }

    /**
     * op(a)·op(b) in dt, op = transpose when the flag is set; not recorded. A transposed view of a
     * contiguous matrix (w.transpose(-1, -2)) is read in place by flipping its flag instead of copying.
     */
    private static Tensor product(String name, Tensor a, boolean transA, Tensor b, boolean transB, DType dt) {
        try (Operands in = new Operands(name, a, b)) {
            boolean flipA = isTransposedView(a);
            boolean flipB = isTransposedView(b);
            CudaTensor left = in.get(flipA ? a.transpose(-1, -2) : a, dt);
            CudaTensor right = in.get(flipB ? b.transpose(-1, -2) : b, dt);
            CudaOps o = ops();
            return CudaStorage.wrap(o.matmul(left, transA != flipA, right, transB != flipB, o.gemmPath()));
        }
    }

    private static boolean isTransposedView(Tensor t) {
        return !t.isContiguous() && t.transpose(-1, -2).isContiguous();
    }

    /** x·Wᵀ + b in the weight's dtype; backward dx = g·W, dW = gᵀ·x over all rows, db = Σ g over rows. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        try (Operands in = new Operands("linear", x, weight, bias)) {
            DType dt = weight.dtype();
            Tensor y = CudaStorage.wrap(ops().linear(in.get(x, dt), in.get(weight), in.get(bias, dt)));
            Tensor[] inputs = bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
            return Autograd.record(y, "linear", inputs, g -> linearBackward(g, x, weight, bias));
        }
    }

    private static Tensor[] linearBackward(Tensor g, Tensor x, Tensor weight, Tensor bias) {
        try (Operands in = new Operands("linear backward", g, x, weight)) {
            DType dt = weight.dtype();
            CudaOps o = ops();
            CudaTensor dy = in.get(g, dt);
            int outF = weight.size(0);
            CudaTensor dx = x.requiresGrad() ? o.matmul(dy, false, in.get(weight), false, o.gemmPath()) : null;
            CudaTensor dw = weight.requiresGrad()
                    ? o.matmul(dy.view(-1, outF), true, in.get(x, dt).view(-1, weight.size(1)), false, o.gemmPath())
                    : null;
            CudaTensor db = bias != null && bias.requiresGrad() ? o.sumToLastDim(dy) : null;
            return new Tensor[] {deviceGrad(x, dx), deviceGrad(weight, dw), deviceGrad(bias, db)};
        }
    }

    /** conv2d with (top, bottom, left, right) padding; uneven padding is applied as an explicit zero border. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padTop, int padBottom,
            int padLeft, int padRight) {
        try (Operands in = new Operands("conv2d", x, weight, bias)) {
            DType dt = weight.dtype();
            boolean even = padBottom == padTop && padLeft == padTop && padRight == padTop;
            CudaTensor input = convInput(in, x, dt, even, padTop, padBottom, padLeft, padRight);
            int pad = even ? padTop : 0;
            Tensor y = CudaStorage.wrap(ops().conv2d(input, in.get(weight), in.get(bias, dt), stride, pad));
            Tensor[] inputs = bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
            return Autograd.record(y, "conv2d", inputs, g -> {
                // conv2d_backward (dW by GEMM, dx by col2im) on the same padded input; dx is then cropped.
                try (Operands gin = new Operands("conv2d backward", g, x, weight)) {
                    CudaTensor padded = convInput(gin, x, dt, even, padTop, padBottom, padLeft, padRight);
                    CudaOps.ConvGrads r = ops().conv2dBackward(padded, gin.get(weight), gin.get(g, dt), stride, pad,
                            bias != null && bias.requiresGrad());
                    Tensor dx = null;
                    if (x.requiresGrad()) {
                        dx = CudaStorage.wrap(r.dx());
                        if (!even) {
                            dx = contiguous(dx.narrow(2, padTop, x.size(2)).narrow(3, padLeft, x.size(3)));
                        }
                        dx = dx.dtype() == x.dtype() ? dx : cast(dx, x.dtype());
                    } else {
                        r.dx().close();
                    }
                    return new Tensor[] {dx, deviceGrad(weight, r.dweight()), deviceGrad(bias, r.dbias())};
                }
            });
        }
    }

    /** x in dt for the convolution kernels: as it is, or (the VAE's (0, 1, 0, 1) downsample) inside an explicit zero border. */
    private static CudaTensor convInput(Operands in, Tensor x, DType dt, boolean even, int top, int bottom, int left,
            int right) {
        if (even) {
            return in.get(x, dt);
        }
        CudaTensor input = in.adopt(zeroPad(x, top, bottom, left, right));
        return input.dtype() == dt ? input : in.adopt(ElementwiseOps.cast(input, dt));
    }

    /** x [N, C, H, W] inside a zero border, as a new device buffer. */
    private static CudaTensor zeroPad(Tensor x, int top, int bottom, int left, int right) {
        int[] s = x.shape();
        int[] padded = {s[0], s[1], s[2] + top + bottom, s[3] + left + right};
        CudaTensor out = CudaTensor.zeros(ops().device(), x.dtype(), padded);
        int[] strides = Shape.contiguousStrides(padded);
        StridedCopy.copy(x, out, (long) top * strides[2] + (long) left * strides[3], strides);
        return out;
    }

    // ------------------------------------------------------------------ normalisation, softmax

    /** Backward: group_norm_backward with the saved fp32 mean/rstd; dgamma/dbeta come back in fp32. */
    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu) {
        String name = silu ? "group_norm_silu" : "group_norm";
        try (Operands in = new Operands(name, x, weight, bias)) {
            DType dt = weight != null ? weight.dtype() : x.dtype();
            CudaOps.NormResult r = ops().groupNorm(in.get(x, dt), groups, in.get(weight), in.get(bias, dt), eps, silu);
            return recordNorm(name, r, x, weight, bias, (saved, g, gin, paramGrads) -> ops().groupNormBackward(
                    gin.get(x, dt), groups, gin.get(weight), gin.get(bias, dt), saved, gin.get(g, dt), silu, paramGrads));
        }
    }

    /** Backward: layer_norm_backward with the saved fp32 mean/rstd; dgamma/dbeta come back in fp32. */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        try (Operands in = new Operands("layer_norm", x, weight, bias)) {
            DType dt = weight != null ? weight.dtype() : x.dtype();
            CudaOps.NormResult r = ops().layerNorm(in.get(x, dt), in.get(weight), in.get(bias, dt), eps);
            return recordNorm("layer_norm", r, x, weight, bias, (saved, g, gin, paramGrads) -> ops().layerNormBackward(
                    gin.get(x, dt), gin.get(weight), saved, gin.get(g, dt), paramGrads));
        }
    }

    /** One norm backward launch: the saved statistics, the output gradient and the operands of this backward. */
    @FunctionalInterface
    private interface NormBackward {
        CudaOps.NormGrads run(CudaOps.NormResult saved, Tensor g, Operands gin, boolean paramGrads);
    }

    /**
     * Returns y, recorded when grads are wanted. The statistics are kept (as tensors, so the GC frees them
     * with the graph) only then; under noGrad they are freed at once.
     */
    private static Tensor recordNorm(String name, CudaOps.NormResult r, Tensor x, Tensor weight, Tensor bias,
            NormBackward backward) {
        Tensor y = CudaStorage.wrap(r.y());
        if (!Autograd.willRecord(x, weight, bias)) {
            r.mean().close();
            r.rstd().close();
            return y;
        }
        Tensor mean = CudaStorage.wrap(r.mean());
        Tensor rstd = CudaStorage.wrap(r.rstd());
        return Autograd.record(y, name, new Tensor[] {x, weight, bias}, g -> {
            try (Operands gin = new Operands(name + " backward", g, x, weight, bias, mean, rstd)) {
                boolean paramGrads = (weight != null && weight.requiresGrad()) || (bias != null && bias.requiresGrad());
                // y is not read by the non-fused backward kernels; only the statistics are.
                CudaOps.NormResult saved = new CudaOps.NormResult(null, gin.get(mean), gin.get(rstd));
                CudaOps.NormGrads d = backward.run(saved, g, gin, paramGrads);
                Tensor dx = x.requiresGrad() ? wrapAs(d.dx(), x.dtype()) : null;
                if (dx == null) {
                    d.dx().close();
                }
                return new Tensor[] {dx, deviceGrad(weight, d.dgamma()), deviceGrad(bias, d.dbeta())};
            }
        });
    }

    /** Backward: softmax_backward on the saved output y. */
    public static Tensor softmax(Tensor x) {
        try (Operands in = new Operands("softmax", x)) {
            Tensor y = CudaStorage.wrap(ops().softmax(in.get(x), 1f));
            return Autograd.record(y, "softmax", new Tensor[] {x}, g -> {
                try (Operands gin = new Operands("softmax backward", y, g)) {
                    return new Tensor[] {CudaStorage.wrap(ops().softmaxBackward(gin.get(y), gin.get(g, y.dtype()), 1f))};
                }
            });
        }
    }

    // ------------------------------------------------------------------ attention

    /** The fused kernel's largest head dim; wider heads (the VAE's single 512-wide head) use GEMM + softmax. */
    private static final int FUSED_MAX_HEAD_DIM = 256;

    /** softmax(q·kᵀ·scale)·v over [B, H, N, d] tensors. */
    public static Tensor sdpa(Tensor q, Tensor k, Tensor v, boolean causal, float scale) {
        if (q.size(-1) <= FUSED_MAX_HEAD_DIM && Arrays.equals(k.shape(), v.shape())) {
            return fusedAttention(q, k, v, 0, causal, scale);
        }
        if (causal) {
            throw new UnsupportedOperationException("causal attention with head dim " + q.size(-1) + " > "
                    + FUSED_MAX_HEAD_DIM + " has no CUDA path");
        }
        try (Operands in = new Operands("attention", q, k, v)) {
            DType dt = common(common(q.dtype(), k.dtype()), v.dtype());
            CudaOps o = ops();
            Tensor y;
            try (CudaTensor p = probabilities(in.get(q, dt), in.get(k, dt), scale)) {
                y = CudaStorage.wrap(o.matmul(p, false, in.get(v, dt), false, o.gemmPath()));
            }
            return Autograd.record(y, "attention", new Tensor[] {q, k, v}, g -> {
                // Recomputes P (as the CPU does) instead of keeping the N×N matrix alive until backward.
                try (Operands gin = new Operands("attention backward", g, q, k, v)) {
                    CudaTensor cq = gin.get(q, dt);
                    CudaTensor ck = gin.get(k, dt);
                    CudaTensor dy = gin.get(g, dt);
                    GemmPath path = o.gemmPath();
                    try (CudaTensor p = probabilities(cq, ck, scale);
                         CudaTensor dp = o.matmul(dy, false, gin.get(v, dt), true, path);
                         CudaTensor ds = o.softmaxBackward(p, dp, scale)) {
                        return new Tensor[] {
                            q.requiresGrad() ? wrapAs(o.matmul(ds, false, ck, false, path), q.dtype()) : null,
                            k.requiresGrad() ? wrapAs(o.matmul(ds, true, cq, false, path), k.dtype()) : null,
                            v.requiresGrad() ? wrapAs(o.matmul(p, true, dy, false, path), v.dtype()) : null};
                    }
                }
            });
        }
    }

    /**
     * softmax(q·kᵀ·scale) as a device buffer the caller frees. The scale goes into the GEMM, before the
     * scores are rounded to fp16: the VAE's 512-wide head gives raw q·k products past fp16's 65504.
     */
    private static CudaTensor probabilities(CudaTensor q, CudaTensor k, float scale) {
        CudaOps o = ops();
        try (CudaTensor scores = o.matmul(q, false, k, true, o.gemmPath(), scale)) {
            return o.softmax(scores, 1f);
        }
    }

    /**
     * Multi-head attention straight on the projections q [B, Nq, H·d], k/v [B, Nk, H·d] → [B, Nq, H·d]:
     * the fused kernel reads the heads through strides, so no split/merge copies are made.
     */
    public static Tensor attendHeads(Tensor q, Tensor k, Tensor v, int heads, boolean causal) {
        int d = q.size(-1) / heads;
        float scale = (float) (1.0 / Math.sqrt(d));
        if (d > FUSED_MAX_HEAD_DIM || v.size(2) != q.size(2)) {
            Tensor o = sdpa(split(q, heads), split(k, heads), split(v, heads), causal, scale);
            return o.permute(0, 2, 1, 3).reshape(q.size(0), q.size(1), v.size(2));
        }
        return fusedAttention(q, k, v, heads, causal, scale);
    }

    /**
     * The flash-style kernel over [B, H, N, d] (heads 0) or [B, N, H·d] tensors; backward runs
     * attention_backward_delta/dq/dkdv from the saved output and fp32 log-sum-exp.
     */
    private static Tensor fusedAttention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale) {
        try (Operands in = new Operands("attention", q, k, v)) {
            DType dt = common(common(q.dtype(), k.dtype()), v.dtype());
            CudaOps.AttentionResult r = ops().attention(in.get(q, dt), in.get(k, dt), in.get(v, dt), heads, scale, causal);
            Tensor y = CudaStorage.wrap(r.out());
            if (!Autograd.willRecord(q, k, v)) {
                r.lse().close();
                return y;
            }
            Tensor lse = CudaStorage.wrap(r.lse());
            return Autograd.record(y, "attention", new Tensor[] {q, k, v}, g -> {
                try (Operands gin = new Operands("attention backward", g, q, k, v, y, lse)) {
                    CudaOps.AttentionResult saved = new CudaOps.AttentionResult(gin.get(y), gin.get(lse));
                    CudaOps.AttentionGrads d = ops().attentionBackward(gin.get(q, dt), gin.get(k, dt), gin.get(v, dt),
                            saved, gin.get(g, dt), heads, scale, causal);
                    return new Tensor[] {deviceGrad(q, d.dq()), deviceGrad(k, d.dk()), deviceGrad(v, d.dv())};
                }
            });
        }
    }

    private static Tensor split(Tensor x, int heads) {
        return x.reshape(x.size(0), x.size(1), heads, x.size(2) / heads).permute(0, 2, 1, 3);
    }

    // ------------------------------------------------------------------ lookup, resampling

    /** Rows of weight [V, D] by int32 ids (Tensor.to(Device.CUDA) stores integer ids as int32). */
    public static Tensor embedding(Tensor ids, Tensor weight) {
        try (Operands in = new Operands("embedding", ids, weight)) {
            Tensor y = CudaStorage.wrap(ops().embedding(in.get(weight), in.get(ids)));
            // Backward: embedding_backward scatter-adds into an fp32 table gradient (ids repeat).
            return Autograd.record(y, "embedding", new Tensor[] {ids, weight}, g -> {
                try (Operands gin = new Operands("embedding backward", g, ids)) {
                    CudaTensor dw = ops().embeddingBackward(gin.get(g, weight.dtype()), gin.get(ids), weight.size(0));
                    return new Tensor[] {null, deviceGrad(weight, dw)};
                }
            });
        }
    }

    /** Backward: upsample_nearest_backward sums each 2×2 block. */
    public static Tensor upsampleNearest2x(Tensor x) {
        try (Operands in = new Operands("upsample_nearest2x", x)) {
            Tensor y = CudaStorage.wrap(ops().upsampleNearest(in.get(x), 2));
            return Autograd.record(y, "upsample_nearest2x", new Tensor[] {x}, g -> {
                try (Operands gin = new Operands("upsample_nearest2x backward", g)) {
                    return new Tensor[] {CudaStorage.wrap(ops().upsampleNearestBackward(gin.get(g, x.dtype()), 2))};
                }
            });
        }
    }

    // ------------------------------------------------------------------ helpers

    /** An owned device result as a tensor of dtype: itself, or a cast copy (the original is freed). */
    private static Tensor wrapAs(CudaTensor owned, DType dtype) {
        if (owned.dtype() == dtype) {
            return CudaStorage.wrap(owned);
        }
        try (owned) {
            return CudaStorage.wrap(ElementwiseOps.cast(owned, dtype));
        }
    }

    /** A gradient computed for input (null when it needs none): summed to its shape, in its dtype, as on the CPU. */
    private static Tensor gradFor(Tensor input, java.util.function.Supplier<Tensor> grad) {
        if (input == null || !input.requiresGrad()) {
            return null;
        }
        Tensor g = Reduce.sumToShape(grad.get(), input.shape());
        return g.dtype() == input.dtype() ? g : cast(g, input.dtype());
    }

    /** A device gradient for input (null when it needs none), reshaped to it and converted to its dtype. */
    private static Tensor deviceGrad(Tensor input, CudaTensor owned) {
        if (owned == null) {
            return null;
        }
        if (input == null || !input.requiresGrad()) {
            owned.close();
            return null;
        }
        return wrapAs(owned, input.dtype()).view(input.shape());
    }

    /** One dtype for two operands: the same one, else fp32 (the only dtype wider than both halves). */
    private static DType common(DType a, DType b) {
        return a == b ? a : DType.F32;
    }

    private static int[] batchDims(Tensor t) {
        return Arrays.copyOf(t.shape(), t.dim() - 2);
    }

    private static int[] withMatrix(int[] batch, Tensor t) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = t.size(-2);
        s[batch.length + 1] = t.size(-1);
        return s;
    }
}
