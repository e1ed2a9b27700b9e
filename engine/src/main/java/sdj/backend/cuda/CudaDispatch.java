package sdj.backend.cuda;

import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.List;
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
 * Accumulation is fp32 in every kernel. Gradients are not recorded on the GPU yet ({@link Operands}).
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
            return CudaStorage.wrap(StridedCopy.contiguous(t));
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
            return out;
        }
    }

    // ------------------------------------------------------------------ elementwise

    /** add/sub/mul/div with NumPy broadcasting (ElementwiseOps.ADD…DIV codes). */
    public static Tensor binary(String name, int code, Tensor a, Tensor b) {
        try (Operands in = new Operands(name, a, b)) {
            DType dt = common(a.dtype(), b.dtype());
            int[] out = Shape.broadcast(a.shape(), b.shape());
            Tensor left = Arrays.equals(a.shape(), out) ? a : a.expand(out);
            // The kernel broadcasts a bias over trailing dims or per channel; anything else is materialised.
            Tensor right = kernelBroadcasts(out, b.shape()) ? b : b.expand(out);
            return CudaStorage.wrap(ElementwiseOps.binary(code, in.get(left, dt), in.get(right, dt)));
        }
    }

    public static Tensor add(Tensor a, Tensor b) {
        return binary("add", ElementwiseOps.ADD, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return binary("sub", ElementwiseOps.SUB, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return binary("mul", ElementwiseOps.MUL, a, b);
    }

    public static Tensor div(Tensor a, Tensor b) {
        return binary("div", ElementwiseOps.DIV, a, b);
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

    /** scale·x + shift (neg, add_scalar, mul_scalar). */
    public static Tensor affine(String name, Tensor x, float scale, float shift) {
        try (Operands in = new Operands(name, x)) {
            return CudaStorage.wrap(ElementwiseOps.affine(in.get(x), scale, shift));
        }
    }

    /** The activations elementwise.cu has, by their sdj.ops.Unary names; other unary ops are CPU-only. */
    public static Tensor unary(String name, Tensor x) {
        Activation act = switch (name) {
            case "silu" -> Activation.SILU;
            case "gelu" -> Activation.GELU;
            case "gelu_tanh" -> Activation.GELU_TANH;
            case "quick_gelu" -> Activation.QUICK_GELU;
            case "sigmoid" -> Activation.SIGMOID;
            case "tanh" -> Activation.TANH;
            case "neg" -> null;
            default -> throw new UnsupportedOperationException(name + " has no CUDA kernel yet; run it on the cpu"
                    + " (tensor.cpu())");
        };
        if (act == null) {
            return affine(name, x, -1f, 0f);
        }
        try (Operands in = new Operands(name, x)) {
            return CudaStorage.wrap(ElementwiseOps.activation(act, in.get(x)));
        }
    }

    /** SD's GEGLU in one kernel: x [..., 2F] = [value | gate] → value · gelu(gate). */
    public static Tensor geglu(Tensor x) {
        try (Operands in = new Operands("geglu", x)) {
            return CudaStorage.wrap(ElementwiseOps.geglu(in.get(x)));
        }
    }

    // ------------------------------------------------------------------ GEMM, convolution

    public static Tensor matmul(Tensor a, Tensor b) {
        try (Operands in = new Operands("matmul", a, b)) {
            DType dt = common(a.dtype(), b.dtype());
            if (b.dim() > 2 && !Arrays.equals(batchDims(a), batchDims(b))) {
                // CudaOps.matmul pairs batches one to one (or shares a 2-D b): broadcast batch dims first.
                int[] batch = Shape.broadcast(batchDims(a), batchDims(b));
                a = a.expand(withMatrix(batch, a));
                b = b.expand(withMatrix(batch, b));
            }
            // A transposed contiguous matrix (w.transpose(-1, -2)) is read in place with the transpose flag.
            boolean transB = !b.isContiguous() && b.transpose(-1, -2).isContiguous();
            CudaTensor left = in.get(a, dt);
            CudaTensor right = in.get(transB ? b.transpose(-1, -2) : b, dt);
            CudaOps o = ops();
            return CudaStorage.wrap(o.matmul(left, false, right, transB, o.gemmPath()));
        }
    }

    /** x·Wᵀ + b in the weight's dtype. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        try (Operands in = new Operands("linear", x, weight, bias)) {
            DType dt = weight.dtype();
            return CudaStorage.wrap(ops().linear(in.get(x, dt), in.get(weight), in.get(bias, dt)));
        }
    }

    /** conv2d with (top, bottom, left, right) padding; uneven padding is applied as an explicit zero border. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padTop, int padBottom,
            int padLeft, int padRight) {
        try (Operands in = new Operands("conv2d", x, weight, bias)) {
            DType dt = weight.dtype();
            CudaTensor input;
            int pad = padTop;
            if (padBottom != padTop || padLeft != padTop || padRight != padTop) {
                // The VAE's (0, 1, 0, 1) downsample: pad explicitly with zeros, then convolve unpadded.
                input = in.adopt(zeroPad(x, padTop, padBottom, padLeft, padRight));
                input = input.dtype() == dt ? input : in.adopt(ElementwiseOps.cast(input, dt));
                pad = 0;
            } else {
                input = in.get(x, dt);
            }
            return CudaStorage.wrap(ops().conv2d(input, in.get(weight), in.get(bias, dt), stride, pad));
        }
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

    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        try (Operands in = new Operands("group_norm", x, weight, bias)) {
            DType dt = weight != null ? weight.dtype() : x.dtype();
            CudaOps.NormResult r = ops().groupNorm(in.get(x, dt), groups, in.get(weight), in.get(bias, dt), eps, false);
            return normOutput(r);
        }
    }

    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        try (Operands in = new Operands("layer_norm", x, weight, bias)) {
            DType dt = weight != null ? weight.dtype() : x.dtype();
            return normOutput(ops().layerNorm(in.get(x, dt), in.get(weight), in.get(bias, dt), eps));
        }
    }

    /** Keeps y; the saved statistics are only for backward. */
    private static Tensor normOutput(CudaOps.NormResult r) {
        r.mean().close();
        r.rstd().close();
        return CudaStorage.wrap(r.y());
    }

    public static Tensor softmax(Tensor x) {
        try (Operands in = new Operands("softmax", x)) {
            return CudaStorage.wrap(ops().softmax(in.get(x), 1f));
        }
    }

    // ------------------------------------------------------------------ attention

    /** The fused kernel's largest head dim; wider heads (the VAE's single 512-wide head) use GEMM + softmax. */
    private static final int FUSED_MAX_HEAD_DIM = 256;

    /** softmax(q·kᵀ·scale)·v over [B, H, N, d] tensors. */
    public static Tensor sdpa(Tensor q, Tensor k, Tensor v, boolean causal, float scale) {
        try (Operands in = new Operands("attention", q, k, v)) {
            DType dt = common(common(q.dtype(), k.dtype()), v.dtype());
            CudaTensor cq = in.get(q, dt);
            CudaTensor ck = in.get(k, dt);
            CudaTensor cv = in.get(v, dt);
            if (q.size(-1) <= FUSED_MAX_HEAD_DIM && Arrays.equals(k.shape(), v.shape())) {
                return attentionOutput(ops().attention(cq, ck, cv, scale, causal));
            }
            if (causal) {
                throw new UnsupportedOperationException("causal attention with head dim " + q.size(-1) + " > "
                        + FUSED_MAX_HEAD_DIM + " has no CUDA path");
            }
            CudaOps o = ops();
            try (CudaTensor scores = o.matmul(cq, false, ck, true, o.gemmPath());
                 CudaTensor p = o.softmax(scores, scale)) {
                return CudaStorage.wrap(o.matmul(p, false, cv, false, o.gemmPath()));
            }
        }
    }

    /**
     * Multi-head attention straight on the projections q [B, Nq, H·d], k/v [B, Nk, H·d] → [B, Nq, H·d]:
     * the fused kernel reads the heads through strides, so no split/merge copies are made.
     */
    public static Tensor attendHeads(Tensor q, Tensor k, Tensor v, int heads, boolean causal) {
        int d = q.size(-1) / heads;
        float scale = (float) (1.0 / Math.sqrt(d));
        if (d > FUSED_MAX_HEAD_DIM) {
            Tensor o = sdpa(split(q, heads), split(k, heads), split(v, heads), causal, scale);
            return o.permute(0, 2, 1, 3).reshape(q.size(0), q.size(1), q.size(2));
        }
        try (Operands in = new Operands("attention", q, k, v)) {
            DType dt = common(common(q.dtype(), k.dtype()), v.dtype());
            return attentionOutput(ops().attention(in.get(q, dt), in.get(k, dt), in.get(v, dt), heads, scale, causal));
        }
    }

    private static Tensor split(Tensor x, int heads) {
        return x.reshape(x.size(0), x.size(1), heads, x.size(2) / heads).permute(0, 2, 1, 3);
    }

    private static Tensor attentionOutput(CudaOps.AttentionResult r) {
        r.lse().close();
        return CudaStorage.wrap(r.out());
    }

    // ------------------------------------------------------------------ lookup, resampling

    /** Rows of weight [V, D] by int32 ids (Tensor.to(Device.CUDA) stores integer ids as int32). */
    public static Tensor embedding(Tensor ids, Tensor weight) {
        try (Operands in = new Operands("embedding", ids, weight)) {
            return CudaStorage.wrap(ops().embedding(in.get(weight), in.get(ids)));
        }
    }

    public static Tensor upsampleNearest2x(Tensor x) {
        try (Operands in = new Operands("upsample_nearest2x", x)) {
            return CudaStorage.wrap(ops().upsampleNearest(in.get(x), 2));
        }
    }

    // ------------------------------------------------------------------ helpers

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
