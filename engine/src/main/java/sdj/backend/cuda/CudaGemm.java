package sdj.backend.cuda;

import sdj.tensor.DType;

/**
 * Batched GEMM dispatch: cuBLASLt when it is installed (found through FFM at first use), else our
 * own kernels: the WMMA tensor-core GEMM for fp16/bf16 and the tiled SIMT GEMM for fp32.
 * {@code -Dsdj.cuda.gemm=own} forces our kernels. The chosen path is logged once.
 */
final class CudaGemm {
    private static final System.Logger LOG = System.getLogger("sdj.cuda");

    private final CudaDevice device;
    private CublasLt cublasLt;
    private boolean probed;

    CudaGemm(CudaDevice device) {
        this.device = device;
    }

    /** The path a GEMM takes by default on this machine. */
    synchronized GemmPath defaultPath() {
        if (!probed) {
            probed = true;
            if (device.isEmulated()) {
                LOG.log(System.Logger.Level.INFO, "GEMM path: sdj tensor-core/SIMT kernels (CUDA emulator)");
            } else if ("own".equalsIgnoreCase(System.getProperty("sdj.cuda.gemm", ""))) {
                LOG.log(System.Logger.Level.INFO, "GEMM path: sdj tensor-core/SIMT kernels (forced by -Dsdj.cuda.gemm=own)");
            } else {
                StringBuilder why = new StringBuilder();
                cublasLt = CublasLt.load(device, why);
                if (cublasLt != null) {
                    LOG.log(System.Logger.Level.INFO, "GEMM path: cuBLASLt via FFM ({0})", cublasLt.location());
                } else {
                    LOG.log(System.Logger.Level.INFO, "GEMM path: sdj tensor-core/SIMT kernels ({0})", why);
                }
            }
        }
        return cublasLt != null ? GemmPath.CUBLASLT : GemmPath.OWN_KERNELS;
    }

    /** True when cuBLASLt was found (so tests can compare both paths). */
    boolean hasCublasLt() {
        defaultPath();
        return cublasLt != null;
    }

    /**
     * C[b] = alpha · A[b]·B[b] + beta · C[b] for b < batch; A is [M, K], B is [K, N] (through strides),
     * C dense row-major [M, N] with leading dim ldc. Every operand has the same dtype.
     */
    void gemm(GemmPath path, DType dtype, int m, int n, int k, GemmOperand a, GemmOperand b, DevicePtr c, long ldc,
              long strideC, int batch, float alpha, float beta) {
        device.makeCurrent();
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        if (path == GemmPath.CUBLASLT && cublasLt != null && CublasLt.supports(a, b)) {
            boolean broadcast = batch > 1 && (a.batchStride() == 0 || b.batchStride() == 0);
            if (!broadcast) {
                if (cublasLt.gemm(device, dtype, m, n, k, a, b, c, ldc, strideC, batch, alpha, beta)) {
                    return;
                }
            } else if (eachMatrix(dtype, m, n, k, a, b, c, ldc, strideC, batch, alpha, beta)) {
                return;
            }
        }
        ownKernel(dtype, m, n, k, a, b, c, ldc, strideC, batch, alpha, beta);
    }

    /**
     * A shared operand (stride 0) is issued batch by batch rather than relying on stride-0 support. Each
     * call keeps the batch strides (unused for one matrix) so that cuBLASLt plans every matrix for the
     * same alignment: either the first call finds no algorithm and nothing is queued, or every call runs.
     */
    private boolean eachMatrix(DType dtype, int m, int n, int k, GemmOperand a, GemmOperand b, DevicePtr c, long ldc,
                               long strideC, int batch, float alpha, float beta) {
        long elem = dtype.byteSize;
        for (int i = 0; i < batch; i++) {
            GemmOperand ai = new GemmOperand(a.ptr().plus(i * a.batchStride() * elem), a.rowStride(), a.colStride(),
                    a.batchStride());
            GemmOperand bi = new GemmOperand(b.ptr().plus(i * b.batchStride() * elem), b.rowStride(), b.colStride(),
                    b.batchStride());
            if (!cublasLt.gemm(device, dtype, m, n, k, ai, bi, c.plus(i * strideC * elem), ldc, strideC, 1, alpha, beta)) {
                return false;
            }
        }
        return true;
    }

    private void ownKernel(DType dtype, int m, int n, int k, GemmOperand a, GemmOperand b, DevicePtr c, long ldc,
                           long strideC, int batch, float alpha, float beta) {
        boolean tensorCores = dtype != DType.F32;
        Kernel kernel = device.kernel("gemm", tensorCores ? "gemm_tc_" + dtype.suffix() : "gemm_f32");
        LaunchShape shape = LaunchShape.grid(LaunchShape.ceilDiv(n, 64), LaunchShape.ceilDiv(m, 64), batch,
                tensorCores ? 128 : 256, 0);
        kernel.launch(shape, a.ptr(), b.ptr(), c, m, n, k, a.rowStride(), a.colStride(), a.batchStride(),
                b.rowStride(), b.colStride(), b.batchStride(), ldc, strideC, alpha, beta);
    }
}
