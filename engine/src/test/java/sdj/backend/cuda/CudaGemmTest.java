package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.tensor.DType;

/** GEMM parity on both paths (cuBLASLt when installed, our kernels always) against a plain loop. */
class CudaGemmTest {
    /** c[M, N] = op(a)·op(b) with a stored [M, K] (or [K, M] when transA) and b [K, N] (or [N, K]). */
    static float[] reference(float[] a, boolean transA, float[] b, boolean transB, int m, int k, int n) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                c[i * n + j] = (float) s;
            }
        }
        return c;
    }

    private static List<GemmPath> paths(CudaOps ops) {
        List<GemmPath> paths = new ArrayList<>(List.of(GemmPath.OWN_KERNELS));
        if (ops.hasCublasLt()) {
            paths.add(GemmPath.CUBLASLT);
        }
        return paths;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void sdLinearShape4096x320x320(DType dtype) {
        CudaOps ops = opsOrSkip();
        int m = 4096;
        int k = 320;
        int n = 320;
        float[] a = rounded(random(1, m * k, 1f), dtype);
        float[] b = rounded(random(2, k * n, 0.1f), dtype);
        float[] expected = reference(a, false, b, false, m, k, n);
        try (CudaTensor da = upload(ops, a, dtype, m, k); CudaTensor db = upload(ops, b, dtype, k, n)) {
            for (GemmPath path : paths(ops)) {
                try (CudaTensor c = ops.matmul(da, false, db, false, path)) {
                    assertClose(expected, c.toFloatArray(), dtype, "gemm 4096x320x320 " + path);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void batchedWithTransposesAndRaggedEdges(DType dtype) {
        CudaOps ops = opsOrSkip();
        int batch = 3;
        int m = 77;
        int k = 40;
        int n = 101;
        float[] a = rounded(random(3, batch * k * m, 1f), dtype); // stored [batch, K, M], used transposed
        float[] b = rounded(random(4, batch * n * k, 1f), dtype); // stored [batch, N, K], used transposed
        float[] expected = new float[batch * m * n];
        for (int i = 0; i < batch; i++) {
            float[] ai = java.util.Arrays.copyOfRange(a, i * k * m, (i + 1) * k * m);
            float[] bi = java.util.Arrays.copyOfRange(b, i * n * k, (i + 1) * n * k);
            System.arraycopy(reference(ai, true, bi, true, m, k, n), 0, expected, i * m * n, m * n);
        }
        try (CudaTensor da = upload(ops, a, dtype, batch, k, m); CudaTensor db = upload(ops, b, dtype, batch, n, k)) {
            for (GemmPath path : paths(ops)) {
                try (CudaTensor c = ops.matmul(da, true, db, true, path)) {
                    assertClose(expected, c.toFloatArray(), dtype, "batched aᵀbᵀ " + path);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void matmulBackwardMatchesTransposedProducts(DType dtype) {
        CudaOps ops = opsOrSkip();
        int batch = 2;
        int m = 64;
        int k = 48;
        int n = 40;
        float[] a = rounded(random(5, batch * m * k, 1f), dtype);
        float[] b = rounded(random(6, k * n, 1f), dtype);
        float[] g = rounded(random(7, batch * m * n, 1f), dtype);
        // dA = g·bᵀ per batch; dB = Σ_batch aᵀ·g = (a as [batch*m, k])ᵀ · (g as [batch*m, n])
        float[] expectedDa = reference(g, false, b, true, batch * m, n, k);
        float[] expectedDb = reference(a, true, g, false, k, batch * m, n);
        try (CudaTensor da = upload(ops, a, dtype, batch, m, k); CudaTensor db = upload(ops, b, dtype, k, n);
             CudaTensor dg = upload(ops, g, dtype, batch, m, n)) {
            KernelCalls.MatmulGrads grads = KernelCalls.matmulBackward(ops, da, db, dg);
            assertClose(expectedDa, grads.da().toFloatArray(), dtype, "matmul dA");
            assertClose(expectedDb, grads.db().toFloatArray(), dtype, "matmul dB");
            grads.da().close();
            grads.db().close();
        }
    }

    /**
     * Operands that start mid-allocation (an odd element in, 16 bytes in) and a batch stride that is not a
     * multiple of 256 bytes: cuBLASLt must be told their real alignment rather than assume 256 bytes.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void viewsThatStartMidAllocation(DType dtype) {
        CudaOps ops = opsOrSkip();
        int batch = 2;
        int m = 77;
        int k = 40;
        int n = 24;
        int offA = 1;
        int offB = 16 / dtype.byteSize;
        float[] a = rounded(random(8, offA + batch * m * k, 1f), dtype);
        float[] b = rounded(random(9, offB + batch * k * n, 1f), dtype);
        float[] expected = new float[batch * m * n];
        for (int i = 0; i < batch; i++) {
            float[] ai = java.util.Arrays.copyOfRange(a, offA + i * m * k, offA + (i + 1) * m * k);
            float[] bi = java.util.Arrays.copyOfRange(b, offB + i * k * n, offB + (i + 1) * k * n);
            System.arraycopy(reference(ai, false, bi, false, m, k, n), 0, expected, i * m * n, m * n);
        }
        try (CudaTensor da = upload(ops, a, dtype, a.length); CudaTensor db = upload(ops, b, dtype, b.length)) {
            CudaTensor va = da.slice(offA, batch, m, k);
            CudaTensor vb = db.slice(offB, batch, k, n);
            for (GemmPath path : paths(ops)) {
                try (CudaTensor c = ops.matmul(va, false, vb, false, path)) {
                    assertClose(expected, c.toFloatArray(), dtype, "gemm on offset views " + path);
                }
            }
        }
    }
}
