package sdj.backend.cuda;

/**
 * conv2d as im2col + GEMM (conv.cu + the GEMM dispatch): per image, y = W[Cout, C·KH·KW] · col and,
 * backward, dcol = Wᵀ · dy → col2im; dW = dy · colᵀ is one GEMM over all images' pixels at once
 * (fp32 accumulation over the whole batch, one rounding to dW's dtype). Weight layout is PyTorch's
 * [Cout, C, KH, KW].
 */
final class ConvOps {
    private ConvOps() {
    }

    /** The output size and im2col arguments of one convolution. */
    record Geometry(int n, int c, int h, int w, int cout, int kh, int kw, int oh, int ow, int stride, int pad) {
        static Geometry of(CudaTensor x, CudaTensor weight, int stride, int pad) {
            if (x.dim() != 4 || weight.dim() != 4 || weight.size(1) != x.size(1)) {
                throw new IllegalArgumentException("conv2d takes x [N, C, H, W] and weight [Cout, C, KH, KW], got " + x
                        + " and " + weight);
            }
            int kh = weight.size(2);
            int kw = weight.size(3);
            int oh = (x.size(2) + 2 * pad - kh) / stride + 1;
            int ow = (x.size(3) + 2 * pad - kw) / stride + 1;
            return new Geometry(x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), kh, kw, oh, ow, stride, pad);
        }

        int patch() {
            return c * kh * kw;
        }

        int pixels() {
            return oh * ow;
        }
    }

    static CudaTensor conv2d(CudaGemm gemm, CudaTensor x, CudaTensor weight, CudaTensor bias, int stride, int pad) {
        Geometry g = Geometry.of(x, weight, stride, pad);
        CudaDevice d = x.device();
        CudaTensor y = CudaTensor.empty(d, x.dtype(), g.n(), g.cout(), g.oh(), g.ow());
        try (CudaTensor col = im2col(x, g, false)) {
            // y[n] (Cout×P) = W (Cout×K) · col[n] (K×P), W shared across the batch.
            gemm.gemm(gemm.defaultPath(), x.dtype(), g.cout(), g.pixels(), g.patch(),
                    new GemmOperand(weight.ptr(), g.patch(), 1, 0),
                    new GemmOperand(col.ptr(), g.pixels(), 1, (long) g.patch() * g.pixels()),
                    y.ptr(), g.pixels(), (long) g.cout() * g.pixels(), g.n(), 1f, 0f);
        }
        if (bias == null) {
            return y;
        }
        try (y) {
            return ElementwiseOps.binary(ElementwiseOps.ADD, y, bias.view(g.cout(), 1, 1));
        }
    }

    static CudaOps.ConvGrads conv2dBackward(CudaGemm gemm, CudaTensor x, CudaTensor weight, CudaTensor dy, int stride,
                                            int pad, boolean biasGrad) {
        Geometry g = Geometry.of(x, weight, stride, pad);
        CudaDevice d = x.device();
        GemmPath path = gemm.defaultPath();
        long p = g.pixels();
        long k = g.patch();
        CudaTensor dw = weightGrad(gemm, path, x, dy, g);
        CudaTensor dx = CudaTensor.empty(d, x.dtype(), x.shape());
        try (CudaTensor dcol = CudaTensor.empty(d, x.dtype(), g.n(), g.patch(), g.pixels())) {
            // dcol[n] (K×P) = Wᵀ (K×Cout) · dy[n] (Cout×P)
            gemm.gemm(path, x.dtype(), g.patch(), g.pixels(), g.cout(), new GemmOperand(weight.ptr(), 1, k, 0),
                    new GemmOperand(dy.ptr(), p, 1, g.cout() * p), dcol.ptr(), p, k * p, g.n(), 1f, 0f);
            x.device().kernel("conv", "col2im_" + x.dtype().suffix()).launch(
                    LaunchShape.elementwise(x.numel()), dcol.ptr(), dx.ptr(), g.n(), g.c(), g.h(), g.w(), g.kh(),
                    g.kw(), g.oh(), g.ow(), g.stride(), g.pad(), 1);
        }
        CudaTensor db = biasGrad ? NormOps.sumKeepMiddle(dy, g.n(), g.cout(), p) : null;
        return new CudaOps.ConvGrads(dx, dw, db);
    }

    /**
     * dW (Cout×K) = dy (Cout×N·P) · colᵀ (N·P×K): the images' pixels form one reduction dimension, so the
     * GEMM accumulates the whole batch in fp32 and rounds dW once (a GEMM per image with beta = 1 would
     * round it to fp16/bf16 after every image). For N > 1, dy [N, Cout, P] is copied to [Cout, N, P] and
     * col is built as [K, N·P]; for N = 1 both already have that layout.
     */
    private static CudaTensor weightGrad(CudaGemm gemm, GemmPath path, CudaTensor x, CudaTensor dy, Geometry g) {
        int np = Math.multiplyExact(g.n(), g.pixels());
        CudaTensor dw = CudaTensor.empty(x.device(), x.dtype(), g.cout(), g.c(), g.kh(), g.kw());
        try (CudaTensor col = im2col(x, g, true); CudaTensor dyByChannel = g.n() == 1 ? null : channelsFirst(dy, g)) {
            DevicePtr dyRows = dyByChannel == null ? dy.ptr() : dyByChannel.ptr();
            gemm.gemm(path, x.dtype(), g.cout(), g.patch(), np, new GemmOperand(dyRows, np, 1, 0),
                    new GemmOperand(col.ptr(), 1, np, 0), dw.ptr(), g.patch(), 0, 1, 1f, 0f);
        }
        return dw;
    }

    /** dy [N, Cout, P] copied to [Cout, N, P]. */
    private static CudaTensor channelsFirst(CudaTensor dy, Geometry g) {
        int p = g.pixels();
        CudaTensor out = CudaTensor.empty(dy.device(), dy.dtype(), g.cout(), g.n(), p);
        StridedCopy.copy(dy, 0, new int[] {Math.multiplyExact(g.cout(), p), p, 1}, new int[] {g.n(), g.cout(), p}, out, 0,
                new int[] {p, Math.multiplyExact(g.n(), p), 1});
        return out;
    }

    /** The im2col columns of x: [N, K, P], or [K, N·P] with {@code imagesInCols}. */
    private static CudaTensor im2col(CudaTensor x, Geometry g, boolean imagesInCols) {
        CudaTensor col = CudaTensor.empty(x.device(), x.dtype(), g.n(), g.patch(), g.pixels());
        x.device().kernel("conv", "im2col_" + x.dtype().suffix()).launch(LaunchShape.elementwise(col.numel()),
                x.ptr(), col.ptr(), g.n(), g.c(), g.h(), g.w(), g.kh(), g.kw(), g.oh(), g.ow(), g.stride(), g.pad(), 1,
                imagesInCols ? 1 : 0);
        return col;
    }
}
