package sdj.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The few driver calls the CUDA backend makes, behind one interface so that the same backend runs on
 * the NVIDIA driver ({@link NvidiaDriver}, JCuda) or, on machines without a GPU, on the host emulator
 * of our kernels ({@link EmulatedDriver}). Device memory is addressed by raw {@code long} addresses.
 * Everything queued runs in order on one stream.
 */
interface DeviceDriver {
    /** What the backend needs to know about the device. */
    record Properties(String name, int computeCapability, int multiprocessors, int maxSharedPerBlockOptin,
                      long totalMemory) {
    }

    /** A loaded kernel, as the driver identifies it. */
    interface Function {
    }

    Properties properties();

    /** Binds the device to the calling thread (the NVIDIA driver's context is per thread). */
    void makeCurrent();

    /** Waits for everything queued. */
    void synchronize();

    /** A new allocation's address, or 0 when the device is out of memory. */
    long allocate(long bytes);

    void free(long address);

    /** Bytes the device could still allocate. */
    long freeMemory();

    void copyToDevice(long dst, MemorySegment src, long bytes);

    /** Copies after everything queued has finished. */
    void copyToHost(MemorySegment dst, long src, long bytes);

    /** Queues zeroing of {@code bytes} bytes at dst. */
    void zero(long dst, long bytes);

    /** The kernel {@code name} of one family (kernels/family.cu). */
    Function function(String family, String name);

    /** Lets a kernel use more than the default 48 KB of dynamic shared memory. */
    void allowSharedBytes(Function function, String name, int bytes);

    /**
     * Queues one launch. Arguments in the kernel's parameter order: {@link DevicePtr} (or null for a
     * null pointer), Integer (int), Long (long long), Float.
     */
    void launch(Function function, String name, LaunchShape shape, Object[] args);

    /** The raw stream handle for native libraries (cuBLASLt); 0 when the driver has none. */
    long streamAddress();
}
