package sdj.backend.cuda;

import java.util.Arrays;
import sdj.tensor.Backend.Result;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * The CUDA backend's layers: products, convolution, normalisation, softmax, attention and lookup. A
 * recorded op keeps what its backward kernels read as tensors (so the GC frees them with the graph);
 * under noGrad nothing is kept. Parameter gradients the kernels accumulate in fp32 (norm dgamma/dbeta,
 * embedding, biases) come back in fp32; the op layer converts them to the parameter's dtype.
 */
final class CudaLayers {
    /** The fused kernel's largest head dim; wider heads (the VAE's single 512-wide head) use GEMM + softmax. */
    private static final int FUSED_MAX_HEAD_DIM = 256;

    private static CudaOps ops() {
        return CudaOps.shared();
    }

    // ------------------------------------------------------------------ GEMM

    Tensor matmul(Tensor a, Tensor b) {
        DType dt = CudaBackend.common(a.dtype(), b.dtype());
        Tensor left = a;
        Tensor right = b;
        if (b.dim() > 2 && !Arrays.equals(batchDims(a), batchDims(b))) {
            // CudaOps.matmul pairs batches one to one (or shares a 2-D b): broadcast batch dims first.
            int[] batch = Shape.broadcast(batchDims(a), batchDims(b));
            left = a.expand(withMatrix(batch, a));
            right = b.expand(withMatrix(batch, b));
        }
        try (Operands in = new Operands("matmul", left, right)) {
            boolean flipA = isTransposedView(left);
            boolean flipB = isTransposedView(right);
            CudaTensor l = in.get(flipA ? left.transpose(-1, -2) : left, dt);
            CudaTensor r = in.get(flipB ? right.transpose(-1, -2) : right, dt);
            CudaOps o = ops();
            return CudaStorage.wrap(o.matmul(l, flipA, r, flipB, o.gemmPath()));
        }
    }

    /** A transposed view of a contiguous matrix (w.transpose(-1, -2)) is read in place by flipping its flag. */
    private static boolean isTransposedView(Tensor t) {
        return !t.isContiguous() && t.transpose(-1, -2).isContiguous();
    }

    /** x·Wᵀ + b in the weight's dtype. */
    Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        try (Operands in = new Operands("linear", x, weight, bias)) {
            DType dt = weight.dtype();
            return CudaStorage.wrap(ops().linear(in.get(x, dt), in.get(weight), in.get(bias, dt)));
        }
    }

    // ------------------------------------------------------------------ convolution

    /** Uneven padding (the VAE's (0, 1, 0, 1) downsample) is applied as an explicit zero border. */
    Result conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int[] pad, boolean keep) {
        try (Operands in = new Operands("conv2d", x, weight, bias)) {
            DType dt = weight.dtype();
            boolean even = pad[1] == pad[0] && pad[2] == pad[0] && pad[3] == pad[0];
            int p = even ? pad[0] : 0;
            CudaTensor input = convInput(in, x, dt, even, pad);
            Tensor y = CudaStorage.wrap(ops().conv2d(input, in.get(weight), in.get(bias, dt), stride, p));
            if (!keep) {
                return Result.of(y);
            }
            return new Result(y, g -> {
                // conv2d_backward (dW by GEMM, dx by col2im) on the same padded input; dx is then cropped.
                try (Operands gin = new Operands("conv2d backward", g, x, weight)) {
                    CudaTensor padded = convInput(gin, x, dt, even, pad);
                    CudaOps.ConvGrads r = ops().conv2dBackward(padded, gin.get(weight), gin.get(g, dt), stride, p,
                            bias != null && bias.requiresGrad());
                    Tensor dx = null;
                    if (x.requiresGrad()) {
                        dx = CudaStorage.wrap(r.dx());
                        if (!even) {
                            dx = CudaStorage.wrap(StridedCopy.contiguous(dx.narrow(2, pad[0], x.size(2))
                                    .narrow(3, pad[2], x.size(3))));
                        }
                    } else {
                        r.dx().close();
                    }
                    return new Tensor[] {dx, owned(weight, r.dweight()), owned(bias, r.dbias())};
                }
            });
        }
    }

    /** x in dt for the convolution kernels: as it is, or inside an explicit zero border. */
    private static CudaTensor convInput(Operands in, Tensor x, DType dt, boolean even, int[] pad) {
        if (even) {
            return in.get(x, dt);
        }
        CudaTensor input = in.adopt(zeroPad(x, pad));
        return input.dtype() == dt ? input : in.adopt(ElementwiseOps.cast(input, dt));
    }

    /** x [N, C, H, W] inside a zero border {top, bottom, left, right}, as a new device buffer. */
    private static CudaTensor zeroPad(Tensor x, int[] pad) {
        int[] s = x.shape();
        int[] padded = {s[0], s[1], s[2] + pad[0] + pad[1], s[3] + pad[2] + pad[3]};
        CudaTensor out = CudaTensor.zeros(ops().device(), x.dtype(), padded);
        int[] strides = Shape.contiguousStrides(padded);
        StridedCopy.copy(x, out, (long) pad[0] * strides[2] + (long) pad[2] * strides[3], strides);
        return out;
    }

    // ------------------------------------------------------------------ normalisation, softmax

    /** group_norm_backward with the saved fp32 mean/rstd. */
    Result groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu, boolean keep) {
        String name = silu ? "group_norm_silu" : "group_norm";
        try (Operands in = new Operands(name, x, weight, bias)) {
            DType dt = weight != null ? weight.dtype() : x.dtype();
            CudaOps.NormResult r = ops().groupNorm(in.get(x, dt), groups, in.get(weight), in.get(bias, dt), eps, silu);
            return normResult(name, r, x, weight, bias, keep, (saved, g, gin, paramGrads) -> ops().groupNormBackward(
                    gin.get(x, dt), groups, gin.get(weight), gin.get(bias, dt), saved, gin.get(g, dt), silu, paramGrads));
        }
    }

    /** layer_norm_backward with the saved fp32 mean/rstd. */
    Result layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, boolean keep) {
        try (Operands in = new Operands("layer_norm", x, weight, bias)) {
            DType dt = weight != null ? weight.dtype() : x.dtype();
            CudaOps.NormResult r = ops().layerNorm(in.get(x, dt), in.get(weight), in.get(bias, dt), eps);
            return normResult("layer_norm", r, x, weight, bias, keep, (saved, g, gin, paramGrads) ->
                    ops().layerNormBackward(gin.get(x, dt), gin.get(weight), saved, gin.get(g, dt), paramGrads));
        }
    }

    /** One norm backward launch: the saved statistics, the output gradient and the operands of this backward. */
    @FunctionalInterface
    private interface NormBackward {
        CudaOps.NormGrads run(CudaOps.NormResult saved, Tensor g, Operands gin, boolean paramGrads);
    }

    private static Result normResult(String name, CudaOps.NormResult r, Tensor x, Tensor weight, Tensor bias,
            boolean keep, NormBackward backward) {
        Tensor y = CudaStorage.wrap(r.y());
        if (!keep) {
            r.mean().close();
            r.rstd().close();
            return Result.of(y);
        }
        Tensor mean = CudaStorage.wrap(r.mean());
        Tensor rstd = CudaStorage.wrap(r.rstd());
        return new Result(y, g -> {
            try (Operands gin = new Operands(name + " backward", g, x, weight, bias, mean, rstd)) {
                boolean paramGrads = (weight != null && weight.requiresGrad()) || (bias != null && bias.requiresGrad());
                // y is not read by the non-fused backward kernels; only the statistics are.
                CudaOps.NormResult saved = new CudaOps.NormResult(null, gin.get(mean), gin.get(rstd));
                CudaOps.NormGrads d = backward.run(saved, g, gin, paramGrads);
                return new Tensor[] {owned(x, d.dx()), owned(weight, d.dgamma()), owned(bias, d.dbeta())};
            }
        });
    }

    /** softmax_backward on the saved output y. */
    Result softmax(Tensor x, boolean keep) {
        try (Operands in = new Operands("softmax", x)) {
            Tensor y = CudaStorage.wrap(ops().softmax(in.get(x), 1f));
            if (!keep) {
                return Result.of(y);
            }
            return new Result(y, g -> {
                try (Operands gin = new Operands("softmax backward", y, g)) {
                    return new Tensor[] {CudaStorage.wrap(ops().softmaxBackward(gin.get(y), gin.get(g, y.dtype()), 1f))};
                }
            });
        }
    }

    // ------------------------------------------------------------------ attention

    /** heads = 0: [B, H, N, d] tensors; heads > 0: [B, N, H·d] projections, read by the fused kernel through strides. */
    Result attention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale, boolean keep) {
        int d = heads == 0 ? q.size(-1) : q.size(-1) / heads;
        boolean sameKv = heads == 0 ? Arrays.equals(k.shape(), v.shape()) : v.size(2) == q.size(2);
        if (d <= FUSED_MAX_HEAD_DIM && sameKv) {
            return fusedAttention(q, k, v, heads, causal, scale, keep);
        }
        if (causal) {
            throw new UnsupportedOperationException("causal attention with head dim " + d + " > "
                    + FUSED_MAX_HEAD_DIM + " has no CUDA path");
        }
        if (heads == 0) {
            return CudaGemmAttention.attend(q, k, v, scale, keep);
        }
        Result r = CudaGemmAttention.attend(split(q, heads), split(k, heads), split(v, heads), scale, keep,
                new Tensor[] {q, k, v});
        Tensor y = merge(r.out());
        if (!keep) {
            return Result.of(y);
        }
        return new Result(y, g -> {
            Tensor[] grads = r.gradients().of(split(g, heads));
            for (int i = 0; i < grads.length; i++) {
                grads[i] = grads[i] == null ? null : merge(grads[i]);
            }
            return grads;
        });
    }

    private static Tensor split(Tensor x, int heads) {
        return CudaStorage.wrap(StridedCopy.contiguous(
                x.reshape(x.size(0), x.size(1), heads, x.size(2) / heads).permute(0, 2, 1, 3)));
    }

    private static Tensor merge(Tensor x) {
        return CudaStorage.wrap(StridedCopy.contiguous(x.permute(0, 2, 1, 3))).view(x.size(0), x.size(2),
                x.size(1) * x.size(3));
    }

    /** The flash-style kernel; backward runs attention_backward_delta/dq/dkdv from the saved output and fp32 log-sum-exp. */
    private static Result fusedAttention(Tensor q, Tensor k, Tensor v, int heads, boolean causal, float scale,
            boolean keep) {
        try (Operands in = new Operands("attention", q, k, v)) {
            DType dt = CudaBackend.common(CudaBackend.common(q.dtype(), k.dtype()), v.dtype());
            CudaOps.AttentionResult r = ops().attention(in.get(q, dt), in.get(k, dt), in.get(v, dt), heads, scale, causal);
            Tensor y = CudaStorage.wrap(r.out());
            if (!keep) {
                r.lse().close();
                return Result.of(y);
            }
            Tensor lse = CudaStorage.wrap(r.lse());
            return new Result(y, g -> {
                try (Operands gin = new Operands("attention backward", g, q, k, v, y, lse)) {
                    CudaOps.AttentionResult saved = new CudaOps.AttentionResult(gin.get(y), gin.get(lse));
                    CudaOps.AttentionGrads d = ops().attentionBackward(gin.get(q, dt), gin.get(k, dt), gin.get(v, dt),
                            saved, gin.get(g, dt), heads, scale, causal);
                    return new Tensor[] {owned(q, d.dq()), owned(k, d.dk()), owned(v, d.dv())};
                }
            });
        }
    }

    // ------------------------------------------------------------------ lookup, resampling

    /** Rows of weight [V, D] by int32 ids; embedding_backward scatter-adds into an fp32 table gradient. */
    Result embedding(Tensor ids, Tensor weight, boolean keep) {
        try (Operands in = new Operands("embedding", ids, weight)) {
            Tensor y = CudaStorage.wrap(ops().embedding(in.get(weight), in.get(ids)));
            if (!keep) {
                return Result.of(y);
            }
            return new Result(y, g -> {
                try (Operands gin = new Operands("embedding backward", g, ids)) {
                    CudaTensor dw = ops().embeddingBackward(gin.get(g, weight.dtype()), gin.get(ids), weight.size(0));
                    return new Tensor[] {null, owned(weight, dw)};
                }
            });
        }
    }

    /** upsample_nearest_backward sums each 2×2 block. */
    Result upsampleNearest2x(Tensor x, boolean keep) {
        try (Operands in = new Operands("upsample_nearest2x", x)) {
            Tensor y = CudaStorage.wrap(ops().upsampleNearest(in.get(x), 2));
            if (!keep) {
                return Result.of(y);
            }
            return new Result(y, g -> {
                try (Operands gin = new Operands("upsample_nearest2x backward", g)) {
                    return new Tensor[] {CudaStorage.wrap(ops().upsampleNearestBackward(gin.get(g, x.dtype()), 2))};
                }
            });
        }
    }

    // ------------------------------------------------------------------ helpers

    /** An owned device gradient as a tensor for input, or freed at once (null) when input needs none. */
    static Tensor owned(Tensor input, CudaTensor grad) {
        if (grad == null) {
            return null;
        }
        if (input == null || !input.requiresGrad()) {
            grad.close();
            return null;
        }
        return CudaStorage.wrap(grad);
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
