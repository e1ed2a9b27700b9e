package sdj.backend.cuda;

/**
 * One loaded {@code extern "C"} kernel. Arguments are passed as Java values in the kernel's parameter
 * order: {@link DevicePtr} (or null for a null pointer), Integer (int), Long (long long), Float.
 */
final class Kernel {
    private static final int DEFAULT_SMEM_LIMIT = 48 * 1024;

    private final String name;
    private final DeviceDriver.Function function;
    private final CudaDevice device;
    private int smemLimit = DEFAULT_SMEM_LIMIT;

    Kernel(String name, DeviceDriver.Function function, CudaDevice device) {
        this.name = name;
        this.function = function;
        this.device = device;
    }

    void launch(LaunchShape shape, Object... args) {
        if (shape.empty()) {
            return;
        }
        if (shape.sharedBytes() > smemLimit) {
            raiseSharedLimit(shape.sharedBytes());
        }
        device.driver().launch(function, name, shape, args);
    }

    /** Kernels needing more than 48 KB of dynamic shared memory must opt in (up to the device's limit). */
    private synchronized void raiseSharedLimit(int bytes) {
        if (bytes > device.maxSharedPerBlockOptin()) {
            throw new CudaException(name + " needs " + bytes + " bytes of shared memory; this GPU allows "
                    + device.maxSharedPerBlockOptin());
        }
        device.driver().allowSharedBytes(function, name, bytes);
        smemLimit = bytes;
    }
}
