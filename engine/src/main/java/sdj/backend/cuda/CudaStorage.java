package sdj.backend.cuda;

import java.lang.ref.Cleaner;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.DeviceBuffer;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * The device buffer behind a CUDA {@link Tensor}: one owning {@link CudaTensor}. The buffer goes back
 * to the caching allocator when the storage becomes unreachable (a {@link Cleaner}), so tensors on the
 * GPU are managed like heap tensors; {@link DeviceMemory} makes the GC run when GPU memory runs short.
 */
final class CudaStorage implements DeviceBuffer {
    private static final Cleaner CLEANER = Cleaner.create();

    private final CudaTensor buffer;

    private CudaStorage(CudaTensor owned) {
        if (!owned.ownsBuffer()) {
            // A view's memory belongs to another tensor; wrapping it would free it twice or too early.
            throw new IllegalStateException("a CUDA tensor storage must own its buffer, got a view " + owned);
        }
        this.buffer = owned;
        CLEANER.register(this, owned::close); // the action holds the buffer, never this storage
        DeviceMemory.noteTensorAllocation(owned.device(), owned.bytes());
    }

    /** A contiguous tensor over a freshly computed device buffer, which the tensor now owns. */
    static Tensor wrap(CudaTensor owned) {
        int[] shape = owned.shape();
        return new Tensor(Storage.onDevice(new CudaStorage(owned)), shape, Shape.contiguousStrides(shape), 0);
    }

    /** The device storage of a CUDA tensor. */
    static CudaStorage of(Tensor t) {
        if (!(t.storage().deviceBuffer() instanceof CudaStorage s)) {
            throw new IllegalArgumentException(t + " is not a CUDA tensor");
        }
        return s;
    }

    /** The whole buffer (flat element indices, as the tensor's offset and strides address it). */
    CudaTensor buffer() {
        return buffer;
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public DType dtype() {
        return buffer.dtype();
    }

    @Override
    public long elements() {
        return buffer.numel();
    }
}
