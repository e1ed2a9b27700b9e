package sdj.backend.cuda;

/**
 * Entry point of the CUDA backend: whether it can run here, and the device to run on.
 * {@link #available()} never throws: a missing libcuda.so.1, no GPU, an old driver or kernels that
 * were not built all make it false, and {@link #unavailableReason()} says which in one sentence.
 *
 * <p>{@code -Dsdj.cuda.emulator=fallback} (set for the engine's tests) runs the backend on the host
 * emulator of our kernels ({@link EmulatedDriver}) when there is no GPU; {@code =on} always does;
 * {@code =off}, the default, never does.
 */
public final class Cuda {
    private static final System.Logger LOG = System.getLogger("sdj.cuda");
    static final String EMULATOR_PROPERTY = "sdj.cuda.emulator";

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
        String mode = System.getProperty(EMULATOR_PROPERTY, "off").toLowerCase(java.util.Locale.ROOT);
        try {
            device = switch (mode) {
                case "off" -> new CudaDevice(NvidiaDriver.open());
                case "on" -> new CudaDevice(new EmulatedDriver());
                case "fallback" -> openGpuOrEmulator();
                default -> throw new CudaException("-D" + EMULATOR_PROPERTY + " must be off, on or fallback, not " + mode);
            };
            LOG.log(System.Logger.Level.INFO, "CUDA device: {0}", device);
        } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, CudaException...
            device = null;
            LOG.log(System.Logger.Level.DEBUG, "CUDA probe failed", t);
            reason = describe(t);
        }
        probed = true;
    }

    private static CudaDevice openGpuOrEmulator() {
        try {
            return new CudaDevice(NvidiaDriver.open());
        } catch (Throwable gpu) {
            try {
                return new CudaDevice(new EmulatedDriver());
            } catch (CudaException emulator) {
                throw new CudaException(describe(gpu) + ", and " + emulator.getMessage());
            }
        }
    }

    private static String describe(Throwable t) {
        if (t instanceof UnsatisfiedLinkError || t instanceof NoClassDefFoundError) {
            return "the CUDA driver library (libcuda.so.1) could not be loaded: no NVIDIA driver on this machine";
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
