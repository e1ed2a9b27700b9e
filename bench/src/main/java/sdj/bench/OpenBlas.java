package sdj.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * OpenBLAS's cblas_sgemm reached through FFM: the native baseline that {@code sdj bench gemm --baseline
 * openblas} times next to our Java GEMM in the same run. A benchmark aid only; nothing at run time
 * depends on it. {@code OPENBLAS_CORETYPE=SkylakeX} picks its AVX-512 kernels on CPUs it predates.
 */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final List<String> CANDIDATES = List.of("/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/libopenblas.so", "/usr/lib64/libopenblas.so.0", "/usr/local/lib/libopenblas.so");

    private final MethodHandle sgemm;
    private final MethodHandle setThreads;
    private final MethodHandle coreName;
    private final String path;

    private OpenBlas(SymbolLookup lib, String path) {
        Linker linker = Linker.nativeLinker();
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT;
        ValueLayout ptr = ValueLayout.ADDRESS;
        this.sgemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(),
                FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, ptr, i, ptr, i, f, ptr, i));
        this.setThreads = lib.find("openblas_set_num_threads")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.ofVoid(i))).orElse(null);
        this.coreName = lib.find("openblas_get_corename")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ptr))).orElse(null);
        this.path = path;
    }

    /** The library from $SDJ_OPENBLAS or the usual system paths, or empty when none is installed. */
    public static Optional<OpenBlas> load(Arena arena) {
        String env = System.getenv("SDJ_OPENBLAS");
        List<String> paths = env != null ? List.of(env) : CANDIDATES;
        for (String p : paths) {
            if (Files.isReadable(Path.of(p))) {
                SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(p), arena);
                if (lib.find("cblas_sgemm").isPresent()) {
                    return Optional.of(new OpenBlas(lib, p));
                }
            }
        }
        return Optional.empty();
    }

    /** Where the library was found and which kernel set it chose, e.g. "SkylakeX". */
    public String describe() {
        String core = "unknown core";
        if (coreName != null) {
            try {
                core = ((MemorySegment) coreName.invokeExact()).reinterpret(64).getString(0);
            } catch (Throwable e) {
                core = "unknown core";
            }
        }
        return path + " (" + core + " kernels)";
    }

    public void setThreads(int threads) {
        if (setThreads != null) {
            try {
                setThreads.invokeExact(threads);
            } catch (Throwable e) {
                throw new IllegalStateException("openblas_set_num_threads failed", e);
            }
        }
    }

    /** C = A·B for row-major native matrices A [m×k], B [k×n], C [m×n]. */
    public void sgemm(int m, int n, int k, MemorySegment a, MemorySegment b, MemorySegment c) {
        try {
            sgemm.invokeExact(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1f, a, k, b, n, 0f, c, n);
        } catch (Throwable e) {
            throw new IllegalStateException("cblas_sgemm failed", e);
        }
    }
}
