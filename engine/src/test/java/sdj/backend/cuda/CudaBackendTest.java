package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.nn.Heads;
import sdj.ops.Attention;
import sdj.ops.Conv;
import sdj.ops.Embedding;
import sdj.ops.F;
import sdj.ops.Resample;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The sdj.ops entry points on CUDA tensors against the same calls on the CPU: each test runs one op
 * twice, once on host tensors and once on their device copies, and compares. Covers the routing
 * itself (layout copies, broadcasts, transposed views, uneven padding, cat) on top of the kernels
 * the other Cuda*Test classes check one by one. Skipped with the probe's reason without a GPU.
 */
class CudaBackendTest {
    @BeforeEach
    void gpu() {
        CudaTestSupport.opsOrSkip();
    }

    private static Tensor host(long seed, int... shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return Tensor.of(random(seed, n, 1f), shape);
    }

    /** The host tensor rounded to dtype (what the GPU sees) and the device copy. */
    private static Tensor[] pair(Tensor h, DType dtype) {
        Tensor r = Tensor.of(rounded(h.toFloatArray(), dtype), h.shape());
        return new Tensor[] {r, r.to(Device.CUDA, dtype)};
    }

    private static void assertSame(Tensor cpu, Tensor gpu, DType dtype, String what) {
        assertTrue(gpu.isCuda(), what + " stays on the GPU");
        assertArrayEquals(cpu.shape(), gpu.shape(), what + " shape");
        assertClose(cpu.toFloatArray(), gpu.to(Device.CPU, DType.F32).toFloatArray(), dtype, what);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void roundTripKeepsTheRoundedValues(DType dtype) {
        Tensor[] x = pair(host(1, 3, 5, 7), dtype);
        Tensor back = x[1].cpu();
        assertEquals(dtype, back.dtype());
        assertArrayEquals(x[0].toFloatArray(), back.toFloatArray(), "bits survive upload and download");
    }

    @Test
    void permutedNarrowedAndExpandedViewsBecomeContiguousCopies() {
        try (var g = Autograd.noGrad()) {
            Tensor[] x = pair(host(2, 2, 3, 4, 5), DType.F32);
            assertSame(x[0].permute(0, 2, 3, 1).contiguous(), x[1].permute(0, 2, 3, 1).contiguous(), DType.F32, "permute");
            assertSame(x[0].narrow(3, 1, 3).contiguous(), x[1].narrow(3, 1, 3).contiguous(), DType.F32, "narrow");
            Tensor[] b = pair(host(3, 3, 1), DType.F32);
            assertSame(b[0].expand(2, 3, 4).contiguous(), b[1].expand(2, 3, 4).contiguous(), DType.F32, "expand");
            Tensor t = x[1].transpose(1, 2).reshape(2, 12, 5);
            assertSame(x[0].transpose(1, 2).reshape(2, 12, 5), t, DType.F32, "reshape of a transpose");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void binaryOpsBroadcastLikeTheCpu(DType dtype) {
        try (var g = Autograd.noGrad()) {
            Tensor[] a = pair(host(4, 2, 6, 3, 3), dtype);
            Tensor[] perSample = pair(host(5, 2, 6, 1, 1), dtype); // a ResBlock's time embedding at batch 2
            Tensor[] bias = pair(host(6, 3), dtype);
            Tensor[] scalarLike = pair(host(7, 1), dtype);
            assertSame(a[0].add(perSample[0]), a[1].add(perSample[1]), dtype, "add [2,6,1,1]");
            assertSame(a[0].mul(bias[0]), a[1].mul(bias[1]), dtype, "mul suffix");
            assertSame(a[0].sub(scalarLike[0]), a[1].sub(scalarLike[1]), dtype, "sub [1]");
            assertSame(perSample[0].div(a[0].add(3f)), perSample[1].div(a[1].add(3f)), dtype, "div, left broadcast");
            assertSame(a[0].mul(0.5f).neg(), a[1].mul(0.5f).neg(), dtype, "scalar ops");
            assertSame(F.silu(a[0]), F.silu(a[1]), dtype, "silu");
            assertSame(F.gelu(a[0]), F.gelu(a[1]), dtype, "gelu");
            assertSame(F.quickGelu(a[0]), F.quickGelu(a[1]), dtype, "quick_gelu");
        }
    }

    @Test
    void mixedDtypesComputeInFp32() {
        try (var g = Autograd.noGrad()) {
            Tensor[] a = pair(host(8, 4, 4), DType.F16);
            Tensor[] b = pair(host(9, 4, 4), DType.F32);
            Tensor y = a[1].add(b[1]);
            assertEquals(DType.F32, y.dtype());
            assertSame(a[0].add(b[0]), y, DType.F32, "f16 + f32");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void linearAndMatmulWithTransposedViews(DType dtype) {
        try (var g = Autograd.noGrad()) {
            Tensor[] x = pair(host(10, 2, 7, 16), dtype);
            Tensor[] w = pair(host(11, 24, 16), dtype);
            Tensor[] b = pair(host(12, 24), dtype);
            assertSame(F.linear(x[0], w[0], b[0]), F.linear(x[1], w[1], b[1]), dtype, "linear");
            assertSame(x[0].matmul(w[0].transpose(0, 1)), x[1].matmul(w[1].transpose(0, 1)), dtype, "matmul by wᵀ");
            Tensor[] y = pair(host(13, 2, 16, 5), dtype);
            assertSame(x[0].matmul(y[0]), x[1].matmul(y[1]), dtype, "batched matmul");
            Tensor[] h = pair(host(14, 2, 7, 4), dtype);
            Tensor[] up = pair(host(15, 24, 4), dtype);
            assertSame(F.linearSum(x[0], w[0], b[0], h[0], up[0]), F.linearSum(x[1], w[1], b[1], h[1], up[1]), dtype,
                    "linear plus a low-rank term");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void convolutionsIncludingTheVaesUnevenPadding(DType dtype) {
        try (var g = Autograd.noGrad()) {
            Tensor[] x = pair(host(14, 2, 4, 9, 9), dtype);
            Tensor[] w = pair(host(15, 6, 4, 3, 3), dtype);
            Tensor[] b = pair(host(16, 6), dtype);
            assertSame(F.conv2d(x[0], w[0], b[0], 1, 1), F.conv2d(x[1], w[1], b[1], 1, 1), dtype, "3x3 pad 1");
            assertSame(Conv.conv2d(x[0], w[0], b[0], 2, 0, 1, 0, 1), Conv.conv2d(x[1], w[1], b[1], 2, 0, 1, 0, 1), dtype,
                    "stride 2, pad (0, 1, 0, 1)");
            Tensor[] w1 = pair(host(17, 6, 4, 1, 1), dtype);
            assertSame(F.conv2d(x[0], w1[0], null, 1, 0), F.conv2d(x[1], w1[1], null, 1, 0), dtype, "1x1 no bias");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void normsSoftmaxGegluUpsampleAndCat(DType dtype) {
        try (var g = Autograd.noGrad()) {
            Tensor[] x = pair(host(18, 2, 64, 4, 4), dtype);
            Tensor[] gw = pair(host(19, 64), dtype);
            Tensor[] gb = pair(host(20, 64), dtype);
            assertSame(F.groupNorm(x[0], 32, gw[0], gb[0], 1e-5f), F.groupNorm(x[1], 32, gw[1], gb[1], 1e-5f), dtype,
                    "group_norm");
            assertSame(F.groupNormSilu(x[0], 32, gw[0], gb[0], 1e-5f), F.groupNormSilu(x[1], 32, gw[1], gb[1], 1e-5f),
                    dtype, "group_norm_silu");
            Tensor[] t = pair(host(21, 2, 5, 64), dtype);
            assertSame(F.layerNorm(t[0], gw[0], gb[0], 1e-5f), F.layerNorm(t[1], gw[1], gb[1], 1e-5f), dtype, "layer_norm");
            assertSame(F.softmax(t[0]), F.softmax(t[1]), dtype, "softmax");
            assertSame(F.geglu(t[0]), F.geglu(t[1]), dtype, "geglu");
            assertSame(Resample.upsampleNearest2x(x[0]), Resample.upsampleNearest2x(x[1]), dtype, "upsample");
            Tensor[] y = pair(host(22, 2, 32, 4, 4), dtype);
            assertSame(F.cat(List.of(x[0], y[0]), 1), F.cat(List.of(x[1], y[1]), 1), dtype, "cat dim 1");
            assertSame(F.cat(List.of(t[0], t[0].narrow(1, 1, 2)), 1), F.cat(List.of(t[1], t[1].narrow(1, 1, 2)), 1),
                    dtype, "cat of a view");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void attentionFusedOnHeadsAndUnfusedForWideHeads(DType dtype) {
        try (var g = Autograd.noGrad()) {
            Tensor[] q = pair(host(23, 2, 9, 4 * 40), dtype);
            Tensor[] k = pair(host(24, 2, 11, 4 * 40), dtype);
            Tensor[] v = pair(host(25, 2, 11, 4 * 40), dtype);
            assertSame(Heads.attend(q[0], k[0], v[0], 4, false), Heads.attend(q[1], k[1], v[1], 4, false), dtype,
                    "cross-attention over [B, N, H·d]");
            assertSame(Heads.attend(q[0], q[0], q[0], 4, true), Heads.attend(q[1], q[1], q[1], 4, true), dtype,
                    "causal self-attention");
            Tensor[] wide = pair(host(26, 1, 16, 512), dtype); // the VAE mid-block: one head of 512
            assertSame(Heads.attend(wide[0], wide[0], wide[0], 1, false), Heads.attend(wide[1], wide[1], wide[1], 1, false),
                    dtype, "single 512-wide head");
            Tensor[] q4 = pair(host(27, 1, 2, 8, 32), dtype);
            assertSame(Attention.sdpa(q4[0], q4[0], q4[0], false), Attention.sdpa(q4[1], q4[1], q4[1], false), dtype,
                    "sdpa [B, H, N, d]");
        }
    }

    @Test
    void wideHeadScoresPastTheFp16RangeBeforeScaling() {
        try (var g = Autograd.noGrad()) {
            // q·k over 512 dims of values near 12 is ~74000, past fp16's 65504 (inf, then NaN); scaled by
            // 1/√512 it is ~3300. Every key is the same, so each row's weights are uniform on both devices.
            Tensor[] q = pair(host(31, 1, 16, 512).mul(0.5f).add(12f), DType.F16);
            Tensor[] k = pair(host(32, 1, 1, 512).mul(0.5f).add(12f).expand(1, 16, 512).contiguous(), DType.F16);
            Tensor[] v = pair(host(33, 1, 16, 512), DType.F16);
            assertSame(Heads.attend(q[0], k[0], v[0], 1, false), Heads.attend(q[1], k[1], v[1], 1, false), DType.F16,
                    "single 512-wide head with scores past the fp16 range");
        }
    }

    @Test
    void attentionOnHeadsRefusesWhatTheCpuRefuses() {
        Tensor[] q = pair(host(28, 1, 5, 2 * 8), DType.F32);
        Tensor[] k = pair(host(29, 1, 7, 2 * 8), DType.F32);
        for (int device = 0; device < 2; device++) { // 0: cpu, 1: cuda
            Tensor qd = q[device];
            Tensor kd = k[device];
            IllegalArgumentException causal = assertThrows(IllegalArgumentException.class,
                    () -> Heads.attend(qd, kd, kd, 2, true));
            assertTrue(causal.getMessage().startsWith("causal attention needs as many keys as queries"), causal.getMessage());
            Tensor shortV = kd.narrow(1, 0, 6); // 6 values for 7 keys
            assertThrows(IllegalArgumentException.class, () -> Heads.attend(qd, kd, shortV, 2, false));
        }
        try (var g = Autograd.noGrad()) { // values narrower than keys (e ≠ d) are fine on both devices
            Tensor[] v = pair(host(30, 1, 7, 2 * 3), DType.F32);
            assertSame(Heads.attend(q[0], k[0], v[0], 2, false), Heads.attend(q[1], k[1], v[1], 2, false), DType.F32,
                    "attention with e = 3, d = 8");
        }
    }

    @Test
    void embeddingTakesHostLongIdsMovedToTheDevice() {
        try (var g = Autograd.noGrad()) {
            Tensor ids = Tensor.ofLongs(new long[] {3, 0, 7, 7, 1}, 1, 5);
            Tensor[] w = pair(host(28, 8, 6), DType.F16);
            Tensor deviceIds = ids.to(Device.CUDA);
            assertEquals(DType.I32, deviceIds.dtype(), "integer ids are int32 on the GPU");
            assertSame(Embedding.embedding(ids, w[0]), Embedding.embedding(deviceIds, w[1]), DType.F16, "embedding");
        }
    }
}
