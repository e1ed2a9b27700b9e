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

    static CudaOps.NormGrads layerNormBackward(CudaTensor x, CudaTensor gamma, CudaOps.NormResult saved, CudaTensor dy,
                                               boolean paramGrads) {
        long cols = x.size(-1);
        int rows = (int) (x.numel() / cols);
        CudaDevice d = x.device();
        CudaTensor dx = CudaTensor.empty(d, x.dtype(), x.shape());
        CudaTensor dgamma = paramGrads ? CudaTensor.zeros(d, DType.F32, (int) cols) : null;
        CudaTensor dbeta = paramGrads ? CudaTensor.zeros(d, DType.F32, (int) cols) : null;
        kernel(x, "layer_norm_backward").launch(LaunchShape.perRow(rows), x.ptr(), ptr(gamma), saved.mean().ptr(),
                saved.rstd().ptr(), dy.ptr(), dx.ptr(), ptr(dgamma), ptr(dbeta), cols);
        return new CudaOps.NormGrads(dx, dgamma, dbeta);
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
        CudaTensor dgamma = paramGrads ? CudaTensor.zeros(d, DType.F32, c) : null;
        CudaTensor dbeta = paramGrads ? CudaTensor.zeros(d, DType.F32, c) : null;
        kernel(x, "group_norm_backward").launch(LaunchShape.perRow((long) n * groups), x.ptr(), ptr(gamma), ptr(beta),
                saved.mean().ptr(), saved.rstd().ptr(), dy.ptr(), dx.ptr(), ptr(dgamma), ptr(dbeta), c, hw, groups,
                silu ? 1 : 0);
        return new CudaOps.NormGrads(dx, dgamma, dbeta);
    }

    static CudaTensor softmax(CudaTensor x, float scale) {
        long cols = x.size(-1);
        CudaTensor y = CudaTensor.empty(x.device(), x.dtype(), x.shape());
        x.device().kernel("softmax", "softmax_forward_" + Precision.suffix(x.dtype()))
                .launch(LaunchShape.perRow(x.numel() / cols), x.ptr(), y.ptr(), cols, scale);
        return y;
    }

    static CudaTensor softmaxBackward(CudaTensor y, CudaTensor dy, float scale) {
        long cols = y.size(-1);
        CudaTensor dx = CudaTensor.empty(y.device(), y.dtype(), y.shape());
        y.device().kernel("softmax", "softmax_backward_" + Precision.suffix(y.dtype()))
                .launch(LaunchShape.perRow(y.numel() / cols), y.ptr(), dy.ptr(), dx.ptr(), cols, scale);
        return dx;
    }

    /** out[m] = Σ over o, i of x viewed as [outer, mid, inner]; fp32 result of shape [mid]. */
    static CudaTensor sumKeepMiddle(CudaTensor x, long outer, int mid, long inner) {
        CudaTensor out = CudaTensor.empty(x.device(), DType.F32, mid);
        x.device().kernel("reduce", "sum_keep_middle_" + Precision.suffix(x.dtype()))
                .launch(LaunchShape.perRow(mid), x.ptr(), out.ptr(), outer, (long) mid, inner, 0f);
        return out;
    }

    private static void checkGroups(int channels, int groups) {
        if (groups <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException("group_norm: " + channels + " channels do not split into " + groups
                    + " groups");
        }
    }

    private static Kernel kernel(CudaTensor like, String base) {
        return like.device().kernel("norm", base + "_" + Precision.suffix(like.dtype()));
    }

    private static DevicePtr ptr(CudaTensor t) {
        return t == null ? null : t.ptr();
    }
}
