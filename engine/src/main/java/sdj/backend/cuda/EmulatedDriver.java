package sdj.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs the CUDA backend without a GPU: our kernels compiled from the same kernels/*.cu by g++ (one
 * library per family, built by kernels/build-emu.sh) and launched through FFM;
 * "device memory" is host memory from malloc. Launches run synchronously, block by block, each
 * thread a fiber (kernels/emu/runtime.cpp). Slow, and exact only to rounding against a GPU, but it
 * runs every kernel, launch shape and Java launcher on every CI machine.
 *
 * <p>New allocations are filled with 0xFF bytes (NaN as floats) so that a kernel reading memory
 * nobody wrote shows up in the results, as stale memory would on a GPU. Capacity: 8 GiB, or
 * {@code -Dsdj.cuda.emulator.memory=<bytes>}, so out-of-memory paths can be tested.
 */
final class EmulatedDriver implements DeviceDriver {
    static final String RESOURCE_DIR = KernelBuild.RESOURCE_DIR + "emu/";
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("malloc"),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("free"),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    private static final FunctionDescriptor LAUNCH = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT);
    private static final int ERROR_BYTES = 512;

    private final Properties properties;
    private final Map<String, Family> families = new HashMap<>();
    private final Map<Long, Long> allocations = new HashMap<>();
    private long allocated;

    /** One family's library: its symbols and its launcher. */
    private record Family(SymbolLookup symbols, MethodHandle launch) {
    }

    private record EmulatedFunction(MethodHandle launch, MemorySegment entry) implements Function {
    }

    /** Null when the emulator libraries are packaged, else one sentence saying why not. */
    static String problem() {
        String marker = KernelBuild.resourceText(RESOURCE_DIR + "BUILD");
        if (marker == null) {
            return "the CUDA emulator was not built (no sdj/kernels/emu/BUILD marker on the class path)";
        }
        if (!marker.contains("status=built")) {
            return "the CUDA emulator was not built (" + marker.lines().filter(l -> l.startsWith("reason="))
                    .map(l -> l.substring(7)).findFirst().orElse("unknown reason") + ")";
        }
        return null;
    }

    EmulatedDriver() {
        String problem = problem();
        if (problem != null) {
            throw new CudaException(problem);
        }
        long capacity = Long.getLong("sdj.cuda.emulator.memory", 8L << 30);
        // 227 KB of shared memory per block, like an H100/H200, so launches that opt in behave alike.
        properties = new Properties("sdj CUDA emulator (host CPU, no GPU)", 90, 1, 227 * 1024, capacity);
    }

    @Override
    public Properties properties() {
        return properties;
    }

    @Override
    public void makeCurrent() {
    }

    @Override
    public void synchronize() {
    }

    @Override
    public synchronized long allocate(long bytes) {
        if (allocated + bytes > properties.totalMemory()) {
            return 0;
        }
        long address = ((MemorySegment) call(MALLOC, bytes)).address();
        if (address == 0) {
            return 0;
        }
        MemorySegment.ofAddress(address).reinterpret(bytes).fill((byte) 0xFF);
        allocations.put(address, bytes);
        allocated += bytes;
        return address;
    }

    @Override
    public synchronized void free(long address) {
        Long bytes = allocations.remove(address);
        if (bytes != null) {
            allocated -= bytes;
            call(FREE, MemorySegment.ofAddress(address));
        }
    }

    @Override
    public synchronized long freeMemory() {
        return properties.totalMemory() - allocated;
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes) {
        MemorySegment.copy(src, 0, MemorySegment.ofAddress(dst).reinterpret(bytes), 0, bytes);
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes) {
        MemorySegment.copy(MemorySegment.ofAddress(src).reinterpret(bytes), 0, dst, 0, bytes);
    }

    @Override
    public void zero(long dst, long bytes) {
        MemorySegment.ofAddress(dst).reinterpret(bytes).fill((byte) 0);
    }

    @Override
    public synchronized Function function(String family, String name) {
        Family f = families.computeIfAbsent(family, EmulatedDriver::load);
        MemorySegment entry = f.symbols().find(name).orElseThrow(() -> new CudaException(
                "kernel " + name + " is not in the emulator's " + family + ".so"));
        return new EmulatedFunction(f.launch(), entry);
    }

    @Override
    public void allowSharedBytes(Function function, String name, int bytes) {
    }

    @Override
    public void launch(Function function, String name, LaunchShape shape, Object[] args) {
        EmulatedFunction fn = (EmulatedFunction) function;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment kinds = arena.allocate(Math.max(1, args.length));
            MemorySegment values = arena.allocate(ValueLayout.JAVA_LONG, Math.max(1, args.length));
            for (int i = 0; i < args.length; i++) {
                long value = switch (args[i]) {
                    case null -> 0L;
                    case DevicePtr p -> p.address();
                    case Integer v -> v;
                    case Long v -> v;
                    case Float v -> Float.floatToRawIntBits(v) & 0xFFFF_FFFFL;
                    default -> throw new IllegalArgumentException("unsupported kernel argument " + args[i].getClass());
                };
                byte kind = switch (args[i]) {
                    case Integer v -> 'I';
                    case Float v -> 'F';
                    case null, default -> 'L';
                };
                kinds.set(ValueLayout.JAVA_BYTE, i, kind);
                values.setAtIndex(ValueLayout.JAVA_LONG, i, value);
            }
            MemorySegment error = arena.allocate(ERROR_BYTES);
            int rc = (int) call(fn.launch(), fn.entry(), shape.gridX(), shape.gridY(), shape.gridZ(), shape.blockX(),
                    (long) shape.sharedBytes(), args.length, kinds, values, error, ERROR_BYTES);
            if (rc != 0) {
                throw new CudaException("launch of " + name + " " + shape + " failed on the CUDA emulator: "
                        + error.getString(0, StandardCharsets.UTF_8));
            }
        }
    }

    @Override
    public long streamAddress() {
        return 0;
    }

    private static Family load(String family) {
        Path library = libraryFile(family);
        SymbolLookup symbols = SymbolLookup.libraryLookup(library, Arena.global());
        MethodHandle launch = LINKER.downcallHandle(symbols.findOrThrow("sdj_emu_launch"), LAUNCH);
        return new Family(symbols, launch);
    }

    /** The family's library as a file: in place under target/classes, else copied out of the jar. */
    private static Path libraryFile(String family) {
        String resource = RESOURCE_DIR + family + ".so";
        URL url = EmulatedDriver.class.getResource(resource);
        if (url == null) {
            throw new CudaException("missing emulator library " + family + ".so: " + problem());
        }
        try {
            if ("file".equals(url.getProtocol())) {
                return Path.of(url.toURI());
            }
            Path dir = Files.createTempDirectory("sdj-cuda-emulator");
            Path file = dir.resolve(family + ".so");
            try (InputStream in = url.openStream()) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return file;
        } catch (IOException | URISyntaxException e) {
            throw new CudaException("cannot unpack the emulator library " + family + ".so", e);
        }
    }

    private static Object call(MethodHandle handle, Object... args) {
        try {
            return handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
