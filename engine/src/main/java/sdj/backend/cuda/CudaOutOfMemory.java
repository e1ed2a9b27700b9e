package sdj.backend.cuda;

/** The GPU could not satisfy an allocation even after the allocator's cache was released. */
public final class CudaOutOfMemory extends CudaException {
    CudaOutOfMemory(long requested, AllocatorStats stats, long deviceFree, long deviceTotal) {
        super("CUDA out of memory: could not allocate " + Bytes.human(requested) + " (in use by sdj "
                + Bytes.human(stats.inUseBytes()) + ", free on the GPU " + Bytes.human(deviceFree) + " of "
                + Bytes.human(deviceTotal) + "); lower the batch size or resolution, use --precision fp16, or stop"
                + " other processes using the GPU.");
    }
}
