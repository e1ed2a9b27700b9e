package sdj.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * One GPU: its primary context (shared with the CUDA runtime, so cuBLASLt sees the same context),
 * one stream every kernel and copy runs on, the caching allocator, and the loaded kernel modules.
 * Any thread may use it: {@link #makeCurrent()} binds the context to the calling thread.
 */
public final class CudaDevice {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final StreamHandle stream = new StreamHandle();
    private final CachingAllocator allocator = new CachingAllocator();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, Kernel> kernels = new HashMap<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private final String name;
    private final int computeMajor;
    private final int computeMinor;
    private final int multiprocessors;
    private final int maxSharedPerBlockOptin;
    private final long totalMemory;

    CudaDevice(int ordinal) {
        CudaCheck.ok(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        CudaCheck.ok(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        makeCurrent();
        CudaCheck.ok(cuStreamCreate(stream, 0), "cuStreamCreate");
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        name = new String(nameBytes, 0, len, StandardCharsets.US_ASCII);
        computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        maxSharedPerBlockOptin = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        long[] total = new long[1];
        cuDeviceTotalMem(total, device);
        totalMemory = total[0];
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        CudaCheck.ok(cuDeviceGetAttribute(v, attr, device), "cuDeviceGetAttribute(" + attr + ")");
        return v[0];
    }

    /** Binds this device's context to the calling thread (cheap after the first call per thread). */
    public void makeCurrent() {
        if (!current.get()) {
            CudaCheck.ok(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            current.set(true);
        }
    }

    /** Waits for every queued kernel and copy. */
    public void synchronize() {
        makeCurrent();
        CudaCheck.ok(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** The kernel {@code name} from the PTX of {@code family} (kernels/family.cu), loaded on first use. */
    synchronized Kernel kernel(String family, String name) {
        return kernels.computeIfAbsent(name, n -> {
            makeCurrent();
            CUmodule module = modules.computeIfAbsent(family, f -> {
                CUmodule m = new CUmodule();
                CudaCheck.ok(cuModuleLoadData(m, KernelBuild.ptx(f)), "cuModuleLoadData(" + f + ".ptx)");
                return m;
            });
            CUfunction fn = new CUfunction();
            CudaCheck.ok(cuModuleGetFunction(fn, module, n), "cuModuleGetFunction(" + n + " in " + family + ".ptx)");
            return new Kernel(n, fn, this);
        });
    }

    CachingAllocator allocator() {
        return allocator;
    }

    StreamHandle stream() {
        return stream;
    }

    public AllocatorStats memoryStats() {
        return allocator.stats();
    }

    /** Returns cached free blocks to the driver (e.g. before handing the GPU to another library). */
    public void releaseCachedMemory() {
        synchronize();
        allocator.releaseCached();
    }

    public String name() {
        return name;
    }

    public int computeCapability() {
        return computeMajor * 10 + computeMinor;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    int maxSharedPerBlockOptin() {
        return maxSharedPerBlockOptin;
    }

    public long totalMemory() {
        return totalMemory;
    }

    @Override
    public String toString() {
        return name + " (sm_" + computeCapability() + ", " + multiprocessors + " SMs, " + Bytes.human(totalMemory) + ")";
    }
}
