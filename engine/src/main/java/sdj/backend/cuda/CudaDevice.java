package sdj.backend.cuda;

import java.util.HashMap;
import java.util.Map;

/**
 * One GPU (or the host emulator standing in for one): its driver, the caching allocator and the
 * loaded kernels. Any thread may use it: {@link #makeCurrent()} binds the device to the calling thread.
 */
public final class CudaDevice {
    private final DeviceDriver driver;
    private final DeviceDriver.Properties properties;
    private final CachingAllocator allocator;
    private final Map<String, Kernel> kernels = new HashMap<>();

    CudaDevice(DeviceDriver driver) {
        this.driver = driver;
        this.properties = driver.properties();
        this.allocator = new CachingAllocator(driver);
    }

    DeviceDriver driver() {
        return driver;
    }

    /** True when this device is the host emulator of our kernels, not a GPU. */
    public boolean isEmulated() {
        return driver instanceof EmulatedDriver;
    }

    /** Binds this device's context to the calling thread (cheap after the first call per thread). */
    public void makeCurrent() {
        driver.makeCurrent();
    }

    /** Waits for every queued kernel and copy. */
    public void synchronize() {
        driver.synchronize();
    }

    /** The kernel {@code name} of {@code family} (kernels/family.cu), loaded on first use. */
    synchronized Kernel kernel(String family, String name) {
        return kernels.computeIfAbsent(name, n -> new Kernel(n, driver.function(family, n), this));
    }

    CachingAllocator allocator() {
        return allocator;
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
        return properties.name();
    }

    public int computeCapability() {
        return properties.computeCapability();
    }

    public int multiprocessors() {
        return properties.multiprocessors();
    }

    int maxSharedPerBlockOptin() {
        return properties.maxSharedPerBlockOptin();
    }

    public long totalMemory() {
        return properties.totalMemory();
    }

    @Override
    public String toString() {
        if (isEmulated()) {
            return name() + ", " + Bytes.human(totalMemory());
        }
        return name() + " (sm_" + computeCapability() + ", " + multiprocessors() + " SMs, " + Bytes.human(totalMemory())
                + ")";
    }
}
