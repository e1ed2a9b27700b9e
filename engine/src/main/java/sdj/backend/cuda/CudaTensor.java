package sdj.backend.cuda;

import java.lang.foreign.MemorySegment;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * A contiguous row-major tensor in GPU memory: a device buffer, a shape and a dtype (F32, F16, BF16,
 * or I32 for ids). The tensor that allocated its buffer owns it and gives it back to the caching
 * allocator on {@link #close()}; {@link #view(int...)} makes non-owning views of the same bytes.
 */
public final class CudaTensor implements AutoCloseable {
    private final CudaDevice device;
    private final CachingAllocator.Block block; // null for views
    private final DevicePtr ptr;
    private final int[] shape;
    private final DType dtype;
    private boolean closed;

    private CudaTensor(CudaDevice device, CachingAllocator.Block block, DevicePtr ptr, int[] shape, DType dtype) {
        this.device = device;
        this.block = block;
        this.ptr = ptr;
        this.shape = shape.clone();
        this.dtype = dtype;
    }

    /** Uninitialised device memory for a tensor of this shape and dtype. */
    public static CudaTensor empty(CudaDevice device, DType dtype, int... shape) {
        checkDtype(dtype);
        device.makeCurrent();
        long bytes = Shape.numel(shape) * dtype.byteSize;
        CachingAllocator.Block b = DeviceMemory.allocate(device, bytes);
        return new CudaTensor(device, b, b.ptr(), shape, dtype);
    }

    public static CudaTensor zeros(CudaDevice device, DType dtype, int... shape) {
        CudaTensor t = empty(device, dtype, shape);
        device.driver().zero(t.ptr.address(), t.bytes());
        return t;
    }

    /**
     * Copies a host tensor to the GPU stored as {@code dtype} (rounded to nearest even, once, here).
     * A contiguous host tensor already in that dtype (e.g. fp16 weights mapped from a checkpoint) is
     * copied byte for byte without conversion.
     */
    public static CudaTensor upload(CudaDevice device, Tensor host, DType dtype) {
        Tensor src = host.isContiguous() && host.offset() == 0 && host.dtype() == dtype
                && host.storage().elements() == host.numel() ? host : host.to(dtype);
        CudaTensor t = empty(device, dtype, host.shape());
        t.copyFromHost(src.storage().segment());
        return t;
    }

    public static CudaTensor upload(CudaDevice device, float[] values, int... shape) {
        return upload(device, Tensor.of(values, shape), DType.F32);
    }

    /** int32 ids (token ids, class labels) for the embedding kernels. */
    public static CudaTensor uploadIds(CudaDevice device, int[] ids, int... shape) {
        CudaTensor t = empty(device, DType.I32, shape);
        t.copyFromHost(MemorySegment.ofArray(ids));
        return t;
    }

    private void copyFromHost(MemorySegment segment) {
        device.makeCurrent();
        long bytes = bytes();
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("host data of " + segment.byteSize() + " bytes for a device tensor of "
                    + bytes + " bytes");
        }
        device.driver().copyToDevice(ptr.address(), segment, bytes);
    }

    /** Copies to the host (waiting for queued work) as a tensor of the same dtype and shape. */
    public Tensor toHost() {
        checkOpen();
        device.makeCurrent();
        Storage storage = Storage.allocate(dtype, numel());
        device.driver().copyToHost(storage.segment(), ptr.address(), bytes()); // after the queued kernels
        return new Tensor(storage, shape, Shape.contiguousStrides(shape), 0);
    }

    /** The values as fp32 (converted on the host from F16/BF16). */
    public float[] toFloatArray() {
        return toHost().toFloatArray();
    }

    /** A non-owning view with another shape over the same elements. */
    public CudaTensor view(int... newShape) {
        int[] target = Shape.infer(newShape, numel());
        return new CudaTensor(device, null, ptr, target, dtype);
    }

    /** A non-owning view of elements [start, start+count) of the flat buffer, with the given shape. */
    CudaTensor slice(long start, int... newShape) {
        if (start < 0 || start + Shape.numel(newShape) > numel()) {
            throw new IndexOutOfBoundsException("slice at " + start + " of " + Shape.str(newShape) + " outside "
                    + Shape.str(shape));
        }
        return new CudaTensor(device, null, ptr.plus(start * dtype.byteSize), newShape, dtype);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int size(int dim) {
        return shape[Shape.wrap(dim, shape.length)];
    }

    public int dim() {
        return shape.length;
    }

    public long numel() {
        return Shape.numel(shape);
    }

    public DType dtype() {
        return dtype;
    }

    public CudaDevice device() {
        return device;
    }

    /** True when this tensor allocated its buffer (and so frees it); false for views. */
    boolean ownsBuffer() {
        return block != null;
    }

    long bytes() {
        return numel() * dtype.byteSize;
    }

    DevicePtr ptr() {
        checkOpen();
        return ptr;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("use of a closed CUDA tensor " + this);
        }
    }

    private static void checkDtype(DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16 && dtype != DType.I32) {
            throw new IllegalArgumentException("CUDA tensors are F32, F16, BF16 or I32, not " + dtype);
        }
    }

    /** Gives the buffer back to the allocator (views: no-op). Queued kernels still using it finish first in stream order. */
    @Override
    public void close() {
        if (!closed && block != null) {
            device.allocator().release(block);
        }
        closed = true;
    }

    @Override
    public String toString() {
        return "CudaTensor" + Shape.str(shape) + " " + dtype;
    }
}
