package sdj.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A device address. JCuda keeps the raw address protected; this subclass exposes it so the same
 * pointer can be handed to cuBLASLt through FFM, and builds offset views for kernel arguments.
 */
final class DevicePtr extends CUdeviceptr {
    DevicePtr() {
    }

    private DevicePtr(DevicePtr base, long byteOffset) {
        super(base, byteOffset);
    }

    /** The same allocation, {@code bytes} further on. */
    DevicePtr plus(long bytes) {
        return bytes == 0 ? this : new DevicePtr(this, bytes);
    }

    /** The raw device address (base plus offset), as CUDA C APIs take it. */
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
