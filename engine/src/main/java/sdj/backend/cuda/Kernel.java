package sdj.backend.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;

/**
 * One loaded {@code extern "C"} kernel. Arguments are passed as Java values in the kernel's parameter
 * order: {@link DevicePtr} (or null for a null pointer), Integer (int), Long (long long), Float.
 */
final class Kernel {
    private static final int DEFAULT_SMEM_LIMIT = 48 * 1024;

    private final String name;
    private final CUfunction function;
    private final CudaDevice device;
    private int smemLimit = DEFAULT_SMEM_LIMIT;

    Kernel(String name, CUfunction function, CudaDevice device) {
        this.name = name;
        this.function = function;
        this.device = device;
    }

    void launch(LaunchShape shape, Object... args) {
        if (shape.sharedBytes() > smemLimit) {
            raiseSharedLimit(shape.sharedBytes());
        }
        Pointer params = Pointer.to(pack(args));
        CudaCheck.ok(cuLaunchKernel(function, shape.gridX(), shape.gridY(), shape.gridZ(), shape.blockX(), 1, 1,
                shape.sharedBytes(), device.stream(), params, null), "launch of " + name + " " + shape);
    }

    /** Kernels needing more than 48 KB of dynamic shared memory must opt in (up to the device's limit). */
    private synchronized void raiseSharedLimit(int bytes) {
        if (bytes > device.maxSharedPerBlockOptin()) {
            throw new CudaException(name + " needs " + bytes + " bytes of shared memory; this GPU allows "
                    + device.maxSharedPerBlockOptin());
        }
        CudaCheck.ok(cuFuncSetAttribute(function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                bytes), "cuFuncSetAttribute(" + name + ", max dynamic shared " + bytes + ")");
        smemLimit = bytes;
    }

    private static NativePointerObject[] pack(Object[] args) {
        NativePointerObject[] out = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            out[i] = switch (a) {
                case null -> Pointer.to(new long[] {0L});
                case DevicePtr p -> Pointer.to(p);
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("unsupported kernel argument " + a.getClass());
            };
        }
        return out;
    }
}
