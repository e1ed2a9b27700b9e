package sdj.bench;

import sdj.backend.cuda.Cuda;
import sdj.backend.cuda.CudaOps;
import sdj.backend.cuda.CudaTensor;
import sdj.tensor.DType;

/**
 * The GEMM, convolution and attention benches on the GPU: random device operands, each timed call
 * waits for the GPU (so the time is the kernel's, not the launch's), and the result is compared with
 * the H200's dense peak the project measures itself against (DESIGN.md).
 */
public final class GpuBenches {
    /** H200 (and H100 SXM) dense tensor-core peak for fp16/bf16 with fp32 accumulation, TFLOP/s. */
    public static final double H200_HALF_PEAK_TFLOPS = 989;
    /** H200 fp32 peak without tensor cores (no TF32), TFLOP/s. */
    public static final double H200_FP32_PEAK_TFLOPS = 67;

    private GpuBenches() {
    }

    public static double peakTflops(DType dtype) {
        return dtype == DType.F32 ? H200_FP32_PEAK_TFLOPS : H200_HALF_PEAK_TFLOPS;
    }

    /** "x TFLOP/s = y% of the H200's z TFLOP/s fp16/bf16 peak". */
    public static String rate(double flops, double seconds, DType dtype) {
        double tflops = flops / seconds / 1e12;
        double peak = peakTflops(dtype);
        return String.format(java.util.Locale.ROOT, "%.1f TFLOP/s = %.1f%% of the H200's %.0f TFLOP/s %s peak", tflops,
                100 * tflops / peak, peak, dtype == DType.F32 ? "fp32" : "bf16/fp16 dense");
    }

    public static Timing.Result gemm(int m, int n, int k, DType dtype, double seconds) {
        CudaOps ops = CudaOps.shared();
        try (CudaTensor a = random(ops, dtype, 1, m, k);
             CudaTensor b = random(ops, dtype, 2, k, n)) {
            return Timing.time("cuda gemm " + m + "x" + n + "x" + k + " " + dtype + " (" + ops.gemmPath() + ")",
                    2.0 * m * n * k, seconds, () -> {
                        try (CudaTensor c = ops.matmul(a, b)) {
                            ops.device().synchronize();
                        }
                    });
        }
    }

    public static Timing.Result conv(int batch, int channels, int size, int kernel, DType dtype, double seconds) {
        CudaOps ops = CudaOps.shared();
        int pad = kernel / 2;
        try (CudaTensor x = random(ops, dtype, 1, batch, channels, size, size);
             CudaTensor w = random(ops, dtype, 2, channels, channels, kernel, kernel)) {
            double flops = 2.0 * batch * channels * channels * kernel * kernel * size * size;
            return Timing.time("cuda conv2d " + batch + "x" + channels + "x" + size + "x" + size + " k" + kernel + " "
                    + dtype, flops, seconds, () -> {
                        try (CudaTensor y = ops.conv2d(x, w, null, 1, pad)) {
                            ops.device().synchronize();
                        }
                    });
        }
    }

    public static Timing.Result attention(int batch, int heads, int tokens, int headDim, DType dtype, double seconds) {
        CudaOps ops = CudaOps.shared();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        try (CudaTensor q = random(ops, dtype, 1, batch, heads, tokens, headDim);
             CudaTensor k = random(ops, dtype, 2, batch, heads, tokens, headDim);
             CudaTensor v = random(ops, dtype, 3, batch, heads, tokens, headDim)) {
            // q·kᵀ and p·v: 2 · (2·N·N·d) per head
            double flops = 4.0 * batch * heads * (double) tokens * tokens * headDim;
            return Timing.time("cuda attention " + batch + "x" + heads + "x" + tokens + "x" + headDim + " " + dtype,
                    flops, seconds, () -> {
                        try (CudaOps.AttentionResult r = ops.attention(q, k, v, scale, false)) {
                            ops.device().synchronize();
                        }
                    });
        }
    }

    private static CudaTensor random(CudaOps ops, DType dtype, long seed, int... shape) {
        int n = Math.toIntExact(sdj.tensor.Shape.numel(shape));
        return CudaTensor.upload(ops.device(), sdj.tensor.Tensor.of(Timing.random(n, seed), shape), dtype);
    }

    /** The device line benches print. */
    public static String describe() {
        return Cuda.device().toString();
    }
}
