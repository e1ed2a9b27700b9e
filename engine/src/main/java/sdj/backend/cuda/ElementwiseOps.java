package sdj.backend.cuda;

import java.util.Arrays;
import sdj.tensor.DType;

/** Launches elementwise.cu: activations and math functions, broadcasting binary ops, affine maps, GEGLU and casts. */
final class ElementwiseOps {
    static final int ADD = 0;
    static final int SUB = 1;
    static final int MUL = 2;
    static final int DIV = 3;

    private ElementwiseOps() {
    }

    /** act(x); p is {@link Activation#POW}'s exponent (ignored by the others). */
    static CudaTensor activation(Activation act, CudaTensor x, float p) {
        CudaTensor y = CudaTensor.empty(x.device(), x.dtype(), x.shape());
        kernel(x, "activation_forward").launch(LaunchShape.elementwise(x.numel()), act.code, p, x.ptr(), y.ptr(),
                x.numel());
        return y;
    }

    /** dy · act'(x); p as in {@link #activation}. */
    static CudaTensor activationBackward(Activation act, CudaTensor x, CudaTensor dy, float p) {
        sameShape(x, dy, "activation backward");
        CudaTensor dx = CudaTensor.empty(x.device(), x.dtype(), x.shape());
        kernel(x, "activation_backward").launch(LaunchShape.elementwise(x.numel()), act.code, p, x.ptr(), dy.ptr(),
                dx.ptr(), x.numel());
        return dx;
    }

    /**
     * a op b where b has a's shape, a trailing suffix of it (bias over the last dim), or is
     * [C, 1, 1] against an [N, C, H, W] a (per-channel bias).
     */
    static CudaTensor binary(int op, CudaTensor a, CudaTensor b) {
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException("binary op on " + a.dtype() + " and " + b.dtype());
        }
        long n = a.numel();
        long nb = b.numel();
        long inner = broadcastInner(a.shape(), b.shape());
        CudaTensor out = CudaTensor.empty(a.device(), a.dtype(), a.shape());
        kernel(a, "binary_forward").launch(LaunchShape.elementwise(n), op, a.ptr(), b.ptr(), out.ptr(), n, nb, inner);
        return out;
    }

    /**
     * The stride of b's index in a's flat index: 1 when b's shape (leading ones dropped) is a suffix of
     * a's (as in PyTorch), H*W when a is [N, C, H, W] and b is [C, 1, 1] or [1, C, 1, 1].
     */
    private static long broadcastInner(int[] a, int[] b) {
        int[] bs = squeezeLeadingOnes(b);
        if (bs.length <= a.length && Arrays.equals(bs, Arrays.copyOfRange(a, a.length - bs.length, a.length))) {
            return 1;
        }
        if (a.length == 4 && bs.length == 3 && bs[0] == a[1] && bs[1] == 1 && bs[2] == 1) {
            return (long) a[2] * a[3];
        }
        throw new IllegalArgumentException("CUDA binary ops broadcast " + Arrays.toString(b) + " against "
                + Arrays.toString(a) + " only as a trailing suffix or as [C, 1, 1] over [N, C, H, W]");
    }

    private static int[] squeezeLeadingOnes(int[] s) {
        int i = 0;
        while (i < s.length - 1 && s[i] == 1) {
            i++;
        }
        return Arrays.copyOfRange(s, i, s.length);
    }

    static CudaTensor affine(CudaTensor x, float scale, float shift) {
        CudaTensor y = CudaTensor.empty(x.device(), x.dtype(), x.shape());
        kernel(x, "affine").launch(LaunchShape.elementwise(x.numel()), x.ptr(), y.ptr(), scale, shift, x.numel());
        return y;
    }

    /** x [..., 2F] → [..., F] = value · gelu(gate). */
    static CudaTensor geglu(CudaTensor x) {
        int[] shape = x.shape();
        long f = shape[shape.length - 1] / 2;
        long rows = x.numel() / (2 * f);
        shape[shape.length - 1] = (int) f;
        CudaTensor out = CudaTensor.empty(x.device(), x.dtype(), shape);
        kernel(x, "geglu_forward").launch(LaunchShape.elementwise(rows * f), x.ptr(), out.ptr(), rows, f);
        return out;
    }

    static CudaTensor gegluBackward(CudaTensor x, CudaTensor dout) {
        long f = x.size(-1) / 2;
        long rows = x.numel() / (2 * f);
        CudaTensor dx = CudaTensor.empty(x.device(), x.dtype(), x.shape());
        kernel(x, "geglu_backward").launch(LaunchShape.elementwise(rows * f), x.ptr(), dout.ptr(), dx.ptr(), rows, f);
        return dx;
    }

    static CudaTensor cast(CudaTensor x, DType to) {
        if (x.dtype() == to) {
            return x;
        }
        String name;
        if (x.dtype() == DType.F32) {
            name = "cast_f32_to_" + to.suffix();
        } else if (to == DType.F32) {
            name = "cast_" + x.dtype().suffix() + "_to_f32";
        } else {
            try (CudaTensor f32 = cast(x, DType.F32)) {
                return cast(f32, to);
            }
        }
        CudaTensor y = CudaTensor.empty(x.device(), to, x.shape());
        x.device().kernel("elementwise", name).launch(LaunchShape.elementwise(x.numel()), x.ptr(), y.ptr(), x.numel());
        return y;
    }

    static Kernel kernel(CudaTensor like, String base) {
        return like.device().kernel("elementwise", base + "_" + like.dtype().suffix());
    }

    static void sameShape(CudaTensor a, CudaTensor b, String what) {
        if (!Arrays.equals(a.shape(), b.shape()) || a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(what + ": " + a + " and " + b + " differ");
        }
    }
}
