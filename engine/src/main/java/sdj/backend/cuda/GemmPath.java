package sdj.backend.cuda;

/** Which implementation runs a GEMM: NVIDIA's cuBLASLt, or sdj's own kernels in gemm.cu. */
public enum GemmPath {
    CUBLASLT, OWN_KERNELS
}
