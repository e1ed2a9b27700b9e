package sdj.tensor;

/**
 * The compute primitives of one device: what an op in {@code sdj.ops} calls after it has checked shapes
 * and devices. A backend computes; it never records on the autograd tape. Ops whose backward needs state
 * that only the backend knows how to keep (normalisation statistics, attention's log-sum-exp, a conv's
 * operands in the kernels' layout) return a {@link Result} whose {@link Gradients} is that backward
 * primitive; the op records it once for both devices. Other backwards are composed of tensor ops.
 *
 * <p>Results are fresh contiguous tensors on this backend's device. The CPU computes in fp32; the CUDA
 * backend computes ops with weights in the weights' dtype and mixed elementwise operands in fp32.
 * Gradients a backend returns may be in another dtype or shape than the input (fp32 sums of an fp16
 * tensor); the op layer fits them to each input.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} ({@link Backends}); they must be cheap
 * to construct and reach their hardware only on first use.
 */
public interface Backend {
    Device device();

    /** Whether this backend can run here (never throws); {@link #unavailableReason()} says why not. */
    boolean available();

    /** One sentence: why this backend cannot run here, or null when it can. */
    String unavailableReason();

    /** The input gradients of an op from its output gradient (null entries for inputs that need none). */
    @FunctionalInterface
    interface Gradients {
        Tensor[] of(Tensor outputGradient);
    }

    /** An op's output and, when the op is recorded, the backward primitive holding what it kept. */
    record Result(Tensor out, Gradients gradients) {
        public static Result of(Tensor out) {
            return new Result(out, null);
        }
    }

    // ------------------------------------------------------------------ memory and layout

    /** t copied between the host and this backend's device, stored as dtype (null: the device's choice). */
    Tensor transfer(Tensor t, Device target, DType dtype);

    /** A fresh contiguous copy sharing nothing with t, stored as dtype (null: t's dtype where this device has it). */
    Tensor copy(Tensor t, DType dtype);

    /** A contiguous tensor of zeros in dtype, or in the dtype this device computes in (the CPU: fp32). */
    Tensor zeros(DType dtype, int... shape);

    /** Writes src into dst, a view of a tensor of this backend (shapes equal; dtype converted). Not recorded. */
    void copyInto(Tensor src, Tensor dst);

    // ------------------------------------------------------------------ elementwise

    /** a op b over the broadcast shape. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** scale·x + shift (exact for scale 1 or shift 0, as the plain add or multiply). */
    Tensor affine(Tensor x, float scale, float shift);

    /** f(x); p is POW's exponent. */
    Result unary(UnaryOp op, float p, Tensor x, boolean keep);

    /** x [..., 2F] = [value | gate] → value·GELU(gate). */
    Result geglu(Tensor x, boolean keep);

    /** Softmax over the last dim. */
    Result softmax(Tensor x, boolean keep);

    /** The fp32 sum over the dims flagged in reduce, shaped outShape. */
    Tensor sum(Tensor x, boolean[] reduce, int[] outShape);

    /**
     * Σ x² over every element (of x's fp32 values), each square rounded to float32 as {@code x.mul(x)} rounds it,
     * summed in this backend's sum precision: a gradient norm's core, without materialising the squares.
     */
    default double sumOfSquares(Tensor x) {
        boolean[] all = new boolean[x.dim()];
        java.util.Arrays.fill(all, true);
        return sum(binary(BinaryOp.MUL, x, x), all, new int[0]).cpu().item();
    }

    // ------------------------------------------------------------------ products

    /** a·b over the last two dims with broadcast batch dims; transposed views are read in place. */
    Tensor matmul(Tensor a, Tensor b);

    /** x·Wᵀ + bias (bias [out] or null), W [out, in]. */
    Tensor linear(Tensor x, Tensor weight, Tensor bias);

    /** x·Wᵀ + bias + x2·W2ᵀ into one output (a layer plus its adapter's up projection); bias may be null. */
    Tensor linearSum(Tensor x, Tensor weight, Tensor bias, Tensor x2, Tensor weight2);

    /** 2-D convolution of x [N, C, H, W] with weight [O, C, kh, kw]; padding {top, bottom, left, right}. */
    Result conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int[] padding, boolean keep);

    // ------------------------------------------------------------------ normalisation, attention, lookup

    /** group_norm (then SiLU when silu is set) of x [N, C, *]; weight/bias [C] or null. */
    Result groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu, boolean keep);

    /** layer_norm over the last dim; weight/bias [D] or null. */
    Result layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, boolean keep);

    /**
     * softmax(q·kᵀ·scale [causal mask])·v. heads = 0: q [B, H, Nq, d], k [B, H, Nk, d], v [B, H, Nk, dv];
     * heads > 0: the projections q [B, Nq, H·d], k [B, Nk, H·d], v [B, Nk, H·dv] and a [B, Nq, H·dv] result.
     */
    Result attention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale, boolean keep);

    /** Rows of weight [V, D] by the integer ids. */
    Result embedding(Tensor ids, Tensor weight, boolean keep);

    /** Nearest-neighbour ×2 upsampling of [N, C, H, W]. */
    Result upsampleNearest2x(Tensor x, boolean keep);

    // ------------------------------------------------------------------ in place, never recorded (optimizers)

    /** dst += alpha·src (src broadcast to dst's shape), in dst's storage. */
    void addInPlace(Tensor dst, Tensor src, float alpha);

    /** dst *= s in dst's storage. */
    void scaleInPlace(Tensor dst, float s);

    /**
     * One AdamW update (torch 1.13 {@code _single_tensor_adamw}) of param in place, with its fp32 moments m and v
     * (same shape, contiguous, updated in place) from an fp32 gradient: param·decay; m ← β1·m + (1−β1)·g;
     * v ← β2·v + (1−β2)·g²; param += −step_size·m / (sqrt(v)/sqrt(1−β2^k) + ε), each in float32 in torch's order.
     */
    void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step);
}
