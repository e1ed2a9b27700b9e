package sdj.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The NVIDIA driver through JCuda's driver API: the device's primary context (shared with the CUDA
 * runtime, so cuBLASLt sees the same context), one stream, modules loaded from our packaged PTX.
 */
final class NvidiaDriver implements DeviceDriver {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final RawStream stream = new RawStream();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<Long, CUdeviceptr> allocations = new HashMap<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private final Properties properties;
    /** Copies go in pieces: a native segment reaches JCuda as a ByteBuffer, which stops at 2 GiB. */
    private static final long COPY_CHUNK = 1L << 30;

    private record NvidiaFunction(CUfunction handle) implements Function {
    }

    /** JCuda keeps raw handles protected; these subclasses read them (for FFM) or build them from an address. */
    private static final class RawStream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }

    private static final class RawDevicePtr extends CUdeviceptr {
        private static final CUdeviceptr NULL = new CUdeviceptr();

        RawDevicePtr() {
        }

        /** nativePointer 0 plus a byte offset of `address`: JCuda passes the sum to the driver. */
        RawDevicePtr(long address) {
            super(NULL, address);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    /**
     * Opens GPU 0, or throws {@link CudaException} with one sentence: no GPU, a driver older than our
     * PTX, or kernels that were not built.
     */
    static NvidiaDriver open() {
        JCudaDriver.setExceptionsEnabled(false);
        int init = cuInit(0);
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            throw new CudaException("no CUDA GPU is visible (cuInit: CUDA_ERROR_NO_DEVICE)");
        }
        CudaCheck.ok(init, "cuInit");
        int[] count = new int[1];
        CudaCheck.ok(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            throw new CudaException("no CUDA GPU is visible");
        }
        String kernels = KernelBuild.problem();
        if (kernels != null) {
            throw new CudaException(kernels);
        }
        int[] version = new int[1];
        cuDriverGetVersion(version);
        if (version[0] < 13000) {
            // Our PTX comes from nvcc 13.0 and carries ISA 9.0, which older drivers cannot JIT.
            throw new CudaException("the NVIDIA driver supports CUDA " + version[0] / 1000 + "."
                    + version[0] % 1000 / 10 + " but sdj's kernels need a CUDA 13 driver (R580 or newer)");
        }
        return new NvidiaDriver(0);
    }

    private NvidiaDriver(int ordinal) {
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
        long[] total = new long[1];
        cuDeviceTotalMem(total, device);
        properties = new Properties(new String(nameBytes, 0, len, StandardCharsets.US_ASCII),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                        + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN), total[0]);
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        CudaCheck.ok(cuDeviceGetAttribute(v, attr, device), "cuDeviceGetAttribute(" + attr + ")");
        return v[0];
    }

    @Override
    public Properties properties() {
        return properties;
    }

    @Override
    public void makeCurrent() {
        if (!current.get()) {
            CudaCheck.ok(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            current.set(true);
        }
    }

    @Override
    public void synchronize() {
        makeCurrent();
        CudaCheck.ok(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public long allocate(long bytes) {
        makeCurrent();
        RawDevicePtr ptr = new RawDevicePtr();
        int r = cuMemAlloc(ptr, bytes);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            return 0;
        }
        CudaCheck.ok(r, "cuMemAlloc(" + bytes + " bytes)");
        synchronized (allocations) {
            allocations.put(ptr.address(), ptr);
        }
        return ptr.address();
    }

    @Override
    public void free(long address) {
        CUdeviceptr ptr;
        synchronized (allocations) {
            ptr = allocations.remove(address);
        }
        if (ptr != null) {
            makeCurrent();
            cuMemFree(ptr);
        }
    }

    @Override
    public long freeMemory() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        CudaCheck.ok(cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes) {
        makeCurrent();
        for (long off = 0; off < bytes; off += COPY_CHUNK) {
            long n = Math.min(COPY_CHUNK, bytes - off);
            CudaCheck.ok(cuMemcpyHtoD(new RawDevicePtr(dst + off), hostPointer(src.asSlice(off, n)), n),
                    "cuMemcpyHtoD(" + n + " bytes)");
        }
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes) {
        synchronize(); // a synchronous copy into a Java array cannot be truly async anyway
        for (long off = 0; off < bytes; off += COPY_CHUNK) {
            long n = Math.min(COPY_CHUNK, bytes - off);
            CudaCheck.ok(cuMemcpyDtoH(hostPointer(dst.asSlice(off, n)), new RawDevicePtr(src + off), n),
                    "cuMemcpyDtoH(" + n + " bytes)");
        }
    }

    @Override
    public void zero(long dst, long bytes) {
        makeCurrent();
        CudaCheck.ok(cuMemsetD8Async(new RawDevicePtr(dst), (byte) 0, bytes, stream), "cuMemsetD8Async");
    }

    /** A JCuda pointer over a heap array segment or a native (off-heap / mapped) segment. */
    private static Pointer hostPointer(MemorySegment segment) {
        if (segment.isNative()) {
            return Pointer.to(segment.asByteBuffer().order(ByteOrder.nativeOrder()));
        }
        Object base = segment.heapBase().orElseThrow();
        Pointer p = switch (base) {
            case byte[] a -> Pointer.to(a);
            case short[] a -> Pointer.to(a);
            case int[] a -> Pointer.to(a);
            case float[] a -> Pointer.to(a);
            case long[] a -> Pointer.to(a);
            case double[] a -> Pointer.to(a);
            default -> throw new IllegalArgumentException("unsupported heap segment over " + base.getClass());
        };
        return p.withByteOffset(segment.address());
    }

    @Override
    public synchronized Function function(String family, String name) {
        makeCurrent();
        CUmodule module = modules.computeIfAbsent(family, f -> {
            CUmodule m = new CUmodule();
            CudaCheck.ok(cuModuleLoadData(m, KernelBuild.ptx(f)), "cuModuleLoadData(" + f + ".ptx)");
            return m;
        });
        CUfunction fn = new CUfunction();
        CudaCheck.ok(cuModuleGetFunction(fn, module, name), "cuModuleGetFunction(" + name + " in " + family + ".ptx)");
        return new NvidiaFunction(fn);
    }

    @Override
    public void allowSharedBytes(Function function, String name, int bytes) {
        CudaCheck.ok(cuFuncSetAttribute(((NvidiaFunction) function).handle(),
                CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(" + name + ", max dynamic shared " + bytes + ")");
    }

    @Override
    public void launch(Function function, String name, LaunchShape shape, Object[] args) {
        makeCurrent();
        Pointer params = Pointer.to(pack(args));
        CudaCheck.ok(cuLaunchKernel(((NvidiaFunction) function).handle(), shape.gridX(), shape.gridY(), shape.gridZ(),
                shape.blockX(), 1, 1, shape.sharedBytes(), stream, params, null), "launch of " + name + " " + shape);
    }

    private static NativePointerObject[] pack(Object[] args) {
        NativePointerObject[] out = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            out[i] = switch (args[i]) {
                case null -> Pointer.to(new long[] {0L});
                case DevicePtr p -> Pointer.to(new long[] {p.address()});
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("unsupported kernel argument " + args[i].getClass());
            };
        }
        return out;
    }

    @Override
    public long streamAddress() {
        return stream.address();
    }
}
