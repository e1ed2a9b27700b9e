package sdj.backend.cuda;

import sdj.tensor.DType;

/** Launches norm.cu (LayerNorm, GroupNorm with optional fused SiLU), softmax.cu and reduce.cu. */
final class NormOps {
    private NormOps() {
    }

    static CudaOps.NormResult layerNorm(CudaTensor x, CudaTensor gamma, CudaTensor beta, float eps) {
        long cols = x.size(-1);
        int rows = (int) (x.numel() / cols);
        CudaDevice d = x.device();
        CudaTensor y = CudaTensor.empty(d, x.dtype(), x.shape());
        CudaTensor mean = CudaTensor.empty(d, DType.F32, rows);
        CudaTensor rstd = CudaTensor.empty(d, DType.F32, rows);
        kernel(x, "layer_norm_forward").launch(LaunchShape.perRow(rows), x.ptr(), ptr(gamma), ptr(beta), y.ptr(),
                mean.ptr(), rstd.ptr(), cols, eps);
        return new CudaOps.NormResult(y, mean, rstd);
    }

    /**
     * Rows per chunk of LayerNorm's parameter-gradient reduction: enough chunks that a GPU has blocks for
     * every SM even with few column tiles (SD's 320 to 1280 wide rows), and 8 rows per thread per chunk.
     * It depends only on the shape, so the summation order (and the result) is the same on every run.
     */
    private static final int LN_ROWS_PER_CHUNK = 64;
    private static final int MAX_GRID_Y = 65_535;

    static CudaOps.NormGrads layerNormBackward(CudaTensor x, CudaTensor gamma, CudaOps.NormResult saved, CudaTensor dy,
                                               boolean paramGrads) {
        long cols = x.size(-1);
        int rows = (int) (x.numel() / cols);
        CudaDevice d = x.device();
        CudaTensor dx = CudaTensor.empty(d, x.dtype(), x.shape());
        kernel(x, "layer_norm_backward").launch(LaunchShape.perRow(rows), x.ptr(), ptr(gamma), saved.mean().ptr(),
                saved.rstd().ptr(), dy.ptr(), dx.ptr(), cols);
        if (!paramGrads) {
            return new CudaOps.NormGrads(dx, null, null);
        }
        int rowsPerChunk = Math.max(LN_ROWS_PER_CHUNK, LaunchShape.ceilDiv(rows, MAX_GRID_Y));
        int chunks = LaunchShape.ceilDiv(rows, rowsPerChunk);
        CudaTensor dgamma = partials(d, chunks, (int) cols);
        CudaTensor dbeta = partials(d, chunks, (int) cols);
        kernel(x, "layer_norm_param_grads").launch(LaunchShape.grid(LaunchShape.ceilDiv(cols, 32), chunks, 1, 256, 0),
                x.ptr(), saved.mean().ptr(), saved.rstd().ptr(), dy.ptr(), dgamma.ptr(), dbeta.ptr(), (long) rows,
                cols, (long) rowsPerChunk);
        return new CudaOps.NormGrads(dx, sumOfChunks(dgamma, chunks), sumOfChunks(dbeta, chunks));
    }

    /** x is [N, C, ...spatial]; statistics per (sample, group). */
    static CudaOps.NormResult groupNorm(CudaTensor x, int groups, CudaTensor gamma, CudaTensor beta, float eps,
                                        boolean silu) {
        int n = x.size(0);
        int c = x.size(1);
        checkGroups(c, groups);
        long hw = x.numel() / ((long) n * c);
        CudaDevice d = x.device();
        CudaTensor y = CudaTensor.empty(d, x.dtype(), x.shape());
        CudaTensor mean = CudaTensor.empty(d, DType.F32, n, groups);
        CudaTensor rstd = CudaTensor.empty(d, DType.F32, n, groups);
        kernel(x, "group_norm_forward").launch(LaunchShape.perRow((long) n * groups), x.ptr(), ptr(gamma), ptr(beta),
                y.ptr(), mean.ptr(), rstd.ptr(), c, hw, groups, eps, silu ? 1 : 0);
        return new CudaOps.NormResult(y, mean, rstd);
    }

    static CudaOps.NormGrads groupNormBackward(CudaTensor x, int groups, CudaTensor gamma, CudaTensor beta,
                                               CudaOps.NormResult saved, CudaTensor dy, boolean silu, boolean paramGrads) {
        int n = x.size(0);
        int c = x.size(1);
        long hw = x.numel() / ((long) n * c);
        CudaDevice d = x.device();
        CudaTensor dx = CudaTensor.empty(d, x.dtype(), x.shape());
        // per-sample sums [N, C], added over N below
        CudaTensor dgamma = paramGrads ? partials(d, n, c) : null;
        CudaTensor dbeta = paramGrads ? partials(d, n, c) : null;
        kernel(x, "group_norm_backward").launch(LaunchShape.perRow((long) n * groups), x.ptr(), ptr(gamma), ptr(beta),
                saved.mean().ptr(), saved.rstd().ptr(), dy.ptr(), dx.ptr(), ptr(dgamma), ptr(dbeta), c, hw, groups,
                silu ? 1 : 0);
        return new CudaOps.NormGrads(dx, sumOfChunks(dgamma, n), sumOfChunks(dbeta, n));
    }

    static CudaTensor softmax(CudaTensor x, float scale) {
        long cols = x.size(-1);
        CudaTensor y = CudaTensor.empty(x.device(), x.dtype(), x.shape());
        x.device().kernel("softmax", "softmax_forward_" + x.dtype().suffix())
                .launch(LaunchShape.perRow(x.numel() / cols), x.ptr(), y.ptr(), cols, scale);
        return y;
    }

    static CudaTensor softmaxBackward(CudaTensor y, CudaTensor dy, float scale) {
        long cols = y.size(-1);
        CudaTensor dx = CudaTensor.empty(y.device(), y.dtype(), y.shape());
        y.device().kernel("softmax", "softmax_backward_" + y.dtype().suffix())
                .launch(LaunchShape.perRow(y.numel() / cols), y.ptr(), dy.ptr(), dx.ptr(), cols, scale);
        return dx;
    }

    /** out[m] = Σ over o, i of x viewed as [outer, mid, inner]; fp32 result of shape [mid]. */
    static CudaTensor sumKeepMiddle(CudaTensor x, long outer, int mid, long inner) {
        CudaTensor out = CudaTensor.empty(x.device(), DType.F32, mid);
        x.device().kernel("reduce", "sum_keep_middle_" + x.dtype().suffix())
                .launch(LaunchShape.perRow(mid), x.ptr(), out.ptr(), outer, (long) mid, inner, 0f);
        return out;
    }

    /** fp32 partial sums of a parameter gradient, one row of {@code cols} per chunk (flat, so one chunk is the gradient). */
    private static CudaTensor partials(CudaDevice d, int chunks, int cols) {
        return CudaTensor.empty(d, DType.F32, Math.multiplyExact(chunks, cols));
    }

    /**
     * The parameter gradient [cols] from its partial sums [chunks, cols]: with one chunk the kernel wrote
     * it directly; otherwise sum_keep_middle adds the chunks in a fixed order (no atomics: bit-reproducible).
     * Null (no parameter gradients) stays null.
     */
    private static CudaTensor sumOfChunks(CudaTensor partials, int chunks) {
        if (partials == null || chunks == 1) {
            return partials;
        }
        try (partials) {
            return sumKeepMiddle(partials, chunks, (int) (partials.numel() / chunks), 1);
        }
    }

    private static void checkGroups(int channels, int groups) {
        if (groups <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException("group_norm: " + channels + " channels do not split into " + groups
                    + " groups");
        }
    }

    private static Kernel kernel(CudaTensor like, String base) {
        return like.device().kernel("norm", base + "_" + like.dtype().suffix());
    }

    private static DevicePtr ptr(CudaTensor t) {
        return t == null ? null : t.ptr();
    }
}
