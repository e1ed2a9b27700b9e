package sdj.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import sdj.backend.cpu.Gemm;
import sdj.ops.Attention;
import sdj.ops.Conv;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** Timed kernels at given shapes, shared by `sdj bench` and the JMH suite's sanity runs. */
public final class KernelBenches {
    private KernelBenches() {
    }

    /** C = A·B, row-major A [m×k] and B [k×n] with values in [−1, 1). */
    public static Timing.Result gemm(int m, int n, int k, double seconds) {
        float[] a = Timing.random(m * k, 1);
        float[] b = Timing.random(k * n, 2);
        float[] c = new float[m * n];
        return Timing.time("gemm " + m + "x" + n + "x" + k, 2.0 * m * n * k, seconds,
                () -> Gemm.sgemm(m, n, k, Gemm.Operand.rowMajor(a, 0, k), Gemm.Operand.rowMajor(b, 0, n), c, 0, n, false));
    }

    /** OpenBLAS's sgemm on the same operands as {@link #gemm}, in native memory. */
    public static Timing.Result openBlasGemm(OpenBlas blas, int m, int n, int k, double seconds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, Timing.random(m * k, 1));
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, Timing.random(k * n, 2));
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
            return Timing.time("openblas sgemm " + m + "x" + n + "x" + k, 2.0 * m * n * k, seconds,
                    () -> blas.sgemm(m, n, k, a, b, c));
        }
    }

    /** conv2d, stride 1, "same" padding, channels→channels at size×size. */
    public static Timing.Result conv(int batch, int channels, int size, int kernel, double seconds) {
        Tensor x = Tensor.of(Timing.random(batch * channels * size * size, 1), batch, channels, size, size);
        Tensor w = Tensor.of(Timing.random(channels * channels * kernel * kernel, 2), channels, channels, kernel, kernel);
        Tensor b = Tensor.of(Timing.random(channels, 3), channels);
        double flops = 2.0 * batch * channels * channels * kernel * kernel * size * size;
        try (var g = Autograd.noGrad()) {
            return Timing.time(String.format("conv2d %dx%d %d->%d at %dx%d, batch %d", kernel, kernel, channels, channels,
                    size, size, batch), flops, seconds, () -> Conv.conv2d(x, w, b, 1, kernel / 2));
        }
    }

    /** softmax(q·kᵀ/√d)·v with heads × tokens × headDim self-attention. */
    public static Timing.Result attention(int batch, int heads, int tokens, int headDim, double seconds) {
        int n = batch * heads * tokens * headDim;
        Tensor q = Tensor.of(Timing.random(n, 1), batch, heads, tokens, headDim);
        Tensor k = Tensor.of(Timing.random(n, 2), batch, heads, tokens, headDim);
        Tensor v = Tensor.of(Timing.random(n, 3), batch, heads, tokens, headDim);
        double flops = 4.0 * batch * heads * tokens * (double) tokens * headDim;
        try (var g = Autograd.noGrad()) {
            return Timing.time(String.format("attention %d heads x %d tokens x %d, batch %d", heads, tokens, headDim, batch),
                    flops, seconds, () -> Attention.sdpa(q, k, v, false));
        }
    }
}
