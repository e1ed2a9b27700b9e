package sdj.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Entry point of the CUDA backend: whether it can run here, and the device to run on.
 * {@link #available()} never throws: a missing libcuda.so.1, no GPU, an old driver or kernels that
 * were not built all make it false, and {@link #unavailableReason()} says which in one sentence.
 */
public final class Cuda {
    private static final System.Logger LOG = System.getLogger("sdj.cuda");

    private static volatile boolean probed;
    private static String reason;
    private static CudaDevice device;

    private Cuda() {
    }

    public static boolean available() {
        probe();
        return device != null;
    }

    /** Null when available, else why not. */
    public static String unavailableReason() {
        probe();
        return reason;
    }

    /** The first GPU; throws with the reason when the backend is unavailable. */
    public static CudaDevice device() {
        if (!available()) {
            throw new CudaException("CUDA backend unavailable: " + reason);
        }
        return device;
    }

    private static synchronized void probe() {
        if (probed) {
            return;
        }
        try {
            device = open();
            LOG.log(System.Logger.Level.INFO, "CUDA device: {0}", device);
        } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, CudaException...
            device = null;
            LOG.log(System.Logger.Level.DEBUG, "CUDA probe failed", t);
            if (reason == null) {
                reason = describe(t);
            }
        }
        probed = true;
    }

    private static CudaDevice open() {
        JCudaDriver.setExceptionsEnabled(false);
        int init = cuInit(0);
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            reason = "no CUDA GPU is visible (cuInit: CUDA_ERROR_NO_DEVICE)";
            throw new CudaException(reason);
        }
        CudaCheck.ok(init, "cuInit");
        int[] count = new int[1];
        CudaCheck.ok(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            reason = "no CUDA GPU is visible";
            throw new CudaException(reason);
        }
        int[] version = new int[1];
        cuDriverGetVersion(version);
        String kernels = KernelBuild.problem();
        if (kernels != null) {
            reason = kernels;
            throw new CudaException(reason);
        }
        if (version[0] < 13000) {
            // Our PTX comes from nvcc 13.0 and carries ISA 9.0, which older drivers cannot JIT.
            reason = "the NVIDIA driver supports CUDA " + version[0] / 1000 + "." + version[0] % 1000 / 10
                    + " but sdj's kernels need a CUDA 13 driver (R580 or newer)";
            throw new CudaException(reason);
        }
        return new CudaDevice(0);
    }

    private static String describe(Throwable t) {
        if (t instanceof UnsatisfiedLinkError || t instanceof NoClassDefFoundError) {
            return "the CUDA driver library (libcuda.so.1) could not be loaded: no NVIDIA driver on this machine";
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
