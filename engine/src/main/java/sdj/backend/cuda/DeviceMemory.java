package sdj.backend.cuda;

/**
 * Allocation with a garbage-collection retry. Device buffers behind {@code sdj.tensor.Tensor}s are
 * freed by a {@link java.lang.ref.Cleaner} when the tensor becomes unreachable ({@link CudaStorage}),
 * but the Java GC does not see GPU memory, so dead activations can pile up until an allocation fails.
 * Then we ask for a collection, give the cleaner thread a moment to return those buffers to the
 * caching allocator, and try again before reporting out of memory. To keep that rare, a collection is
 * also requested after every quarter of the device's memory allocated through tensors.
 */
final class DeviceMemory {
    private static final int RETRIES = 4;
    private static final long PAUSE_MS = 25;

    private static long allocatedSinceGc;

    private DeviceMemory() {
    }

    static CachingAllocator.Block allocate(CudaDevice device, long bytes) {
        try {
            return device.allocator().allocate(bytes);
        } catch (CudaOutOfMemory first) {
            for (int i = 0; i < RETRIES; i++) {
                collect();
                try {
                    return device.allocator().allocate(bytes);
                } catch (CudaOutOfMemory again) {
                    if (i == RETRIES - 1) {
                        throw again;
                    }
                }
            }
            throw first;
        }
    }

    /** Called for every buffer that a GC-managed tensor owns: a collection after each quarter of the GPU. */
    static void noteTensorAllocation(CudaDevice device, long bytes) {
        boolean collect;
        synchronized (DeviceMemory.class) {
            allocatedSinceGc += bytes;
            collect = allocatedSinceGc > device.totalMemory() / 4;
            if (collect) {
                allocatedSinceGc = 0;
            }
        }
        if (collect) {
            System.gc();
        }
    }

    private static void collect() {
        synchronized (DeviceMemory.class) {
            allocatedSinceGc = 0;
        }
        System.gc();
        try {
            Thread.sleep(PAUSE_MS); // the Cleaner thread releases the unreachable buffers meanwhile
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
