package sdj.tensor;

/**
 * A flat run of elements in accelerator memory, the device counterpart of a heap or mapped
 * {@link Storage} segment. Tensors view it through their usual shape, strides and offset; only the
 * backend that made it reads or writes its elements.
 */
public interface DeviceBuffer {
    Device device();

    DType dtype();

    long elements();
}
