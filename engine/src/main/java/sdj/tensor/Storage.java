package sdj.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A flat run of elements of one dtype. Backed by a {@link MemorySegment}: either a heap segment over
 * a {@code float[]} (what CPU ops produce, so the Vector API kernels and the GC handle it for free)
 * or an off-heap/mapped segment (checkpoint tensors viewed in place, GPU staging buffers). A device
 * storage instead wraps a {@link DeviceBuffer} (GPU memory): it has no segment, and reading its
 * elements from Java fails with a message that says to copy the tensor to the CPU first.
 */
public final class Storage {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment segment;
    private final DType dtype;
    private final float[] heapFloats; // non-null when this is an fp32 heap storage
    private final DeviceBuffer deviceBuffer; // non-null when the elements live on an accelerator

    private Storage(MemorySegment segment, DType dtype, float[] heapFloats) {
        this.segment = segment;
        this.dtype = dtype;
        this.heapFloats = heapFloats;
        this.deviceBuffer = null;
    }

    private Storage(DeviceBuffer buffer) {
        this.segment = null;
        this.dtype = buffer.dtype();
        this.heapFloats = null;
        this.deviceBuffer = buffer;
    }

    /** A storage whose elements live in device memory. */
    public static Storage onDevice(DeviceBuffer buffer) {
        return new Storage(buffer);
    }

    public Device device() {
        return deviceBuffer == null ? Device.CPU : deviceBuffer.device();
    }

    /** The device memory behind this storage, or null for a host storage. */
    public DeviceBuffer deviceBuffer() {
        return deviceBuffer;
    }

    public static Storage ofFloats(float[] data) {
        return new Storage(MemorySegment.ofArray(data), DType.F32, data);
    }

    /** Wraps little-endian bytes of the given dtype (e.g. a slice of a memory-mapped checkpoint). */
    public static Storage ofSegment(MemorySegment segment, DType dtype) {
        if (segment.byteSize() % dtype.byteSize != 0) {
            throw new IllegalArgumentException("storage of " + segment.byteSize() + " bytes is not a whole number of "
                    + dtype + " elements");
        }
        return new Storage(segment, dtype, null);
    }

    /** An fp32 copy of {@code data} in native memory (off the heap), freed by the GC with the storage. */
    public static Storage ofNativeCopy(float[] data) {
        MemorySegment segment = Arena.ofAuto().allocate(4L * data.length, 64);
        MemorySegment.copy(data, 0, segment, F32, 0, data.length);
        return new Storage(segment, DType.F32, null);
    }

    public static Storage allocate(DType dtype, long elements) {
        if (dtype == DType.F32) {
            return ofFloats(new float[Math.toIntExact(elements)]);
        }
        return new Storage(MemorySegment.ofArray(new byte[Math.toIntExact(elements * dtype.byteSize)]), dtype, null);
    }

    public MemorySegment segment() {
        if (deviceBuffer != null) {
            throw hostOnly("segment()");
        }
        return segment;
    }

    public DType dtype() {
        return dtype;
    }

    public long elements() {
        return deviceBuffer != null ? deviceBuffer.elements() : segment.byteSize() / dtype.byteSize;
    }

    /** The error for reading device elements from Java: say where they are and how to get them. */
    IllegalStateException hostOnly(String what) {
        return new IllegalStateException(what + " reads elements from Java, but this " + dtype + " tensor lives on "
                + device().label() + "; copy it to the host first with tensor.cpu()");
    }

    /** The backing array when this is an fp32 heap storage, else null. */
    public float[] heapFloats() {
        return heapFloats;
    }

    /** Reads element i converted to float. */
    public float getFloat(long i) {
        if (heapFloats != null) {
            return heapFloats[(int) i];
        }
        if (deviceBuffer != null) {
            throw hostOnly("getFloat()");
        }
        return switch (dtype) {
            case F32 -> segment.get(F32, i * 4);
            case F16 -> Float.float16ToFloat(segment.get(I16, i * 2));
            case BF16 -> Float.intBitsToFloat((segment.get(I16, i * 2) & 0xffff) << 16);
            case F64 -> (float) segment.get(F64, i * 8);
            case I64 -> (float) segment.get(I64, i * 8);
            case I32 -> (float) segment.get(I32, i * 4);
            case I16 -> segment.get(I16, i * 2);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, i);
            case U8 -> segment.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            case BOOL -> segment.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1f : 0f;
        };
    }

    /** Reads element i as a long (exact for the integer types). */
    public long getLong(long i) {
        if (deviceBuffer != null) {
            throw hostOnly("getLong()");
        }
        return switch (dtype) {
            case I64 -> segment.get(I64, i * 8);
            case I32 -> segment.get(I32, i * 4);
            case I16 -> segment.get(I16, i * 2);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> segment.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            default -> (long) getFloat(i);
        };
    }

    /** Writes element i, rounding to this storage's dtype (fp16 round-to-nearest-even). */
    public void setFloat(long i, float v) {
        if (heapFloats != null) {
            heapFloats[(int) i] = v;
            return;
        }
        if (deviceBuffer != null) {
            throw hostOnly("setFloat()");
        }
        switch (dtype) {
            case F32 -> segment.set(F32, i * 4, v);
            case F16 -> segment.set(I16, i * 2, Float.floatToFloat16(v));
            case BF16 -> segment.set(I16, i * 2, floatToBf16(v));
            case F64 -> segment.set(F64, i * 8, v);
            case I64 -> segment.set(I64, i * 8, (long) v);
            case I32 -> segment.set(I32, i * 4, (int) v);
            case I16 -> segment.set(I16, i * 2, (short) v);
            case I8, U8 -> segment.set(ValueLayout.JAVA_BYTE, i, (byte) (int) v);
            case BOOL -> segment.set(ValueLayout.JAVA_BYTE, i, (byte) (v != 0 ? 1 : 0));
        }
    }

    public void setLong(long i, long v) {
        if (deviceBuffer != null) {
            throw hostOnly("setLong()");
        }
        switch (dtype) {
            case I64 -> segment.set(I64, i * 8, v);
            case I32 -> segment.set(I32, i * 4, (int) v);
            case I16 -> segment.set(I16, i * 2, (short) v);
            case I8, U8, BOOL -> segment.set(ValueLayout.JAVA_BYTE, i, (byte) v);
            default -> setFloat(i, v);
        }
    }

    /** fp32 → bf16 with round-to-nearest-even, NaN kept quiet. */
    public static short floatToBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
