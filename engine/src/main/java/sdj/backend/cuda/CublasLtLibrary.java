package sdj.backend.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds libcublasLt on this machine: an explicit {@code -Dsdj.cublaslt=/path/libcublasLt.so.13}, then
 * the sonames {@code libcublasLt.so.13} and {@code .so.12} through the dynamic loader's search path,
 * then CUDA toolkit folders and pip-installed NVIDIA wheels ({@code site-packages/nvidia/cublas/lib}).
 */
final class CublasLtLibrary {
    private static final String[] SONAMES = {"libcublasLt.so.13", "libcublasLt.so.12"};

    /** The loaded library and where it came from. */
    record Found(SymbolLookup lookup, String location) {
    }

    private CublasLtLibrary() {
    }

    /** The library, or null with every location tried listed in {@code tried}. */
    static Found find(List<String> tried) {
        String explicit = System.getProperty("sdj.cublaslt");
        if (explicit != null) {
            Found f = open(explicit, tried);
            if (f != null) {
                return f;
            }
        }
        for (String soname : SONAMES) {
            Found f = open(soname, tried);
            if (f != null) {
                return f;
            }
        }
        for (Path dir : candidateDirs()) {
            for (String soname : SONAMES) {
                Path p = dir.resolve(soname);
                if (Files.isRegularFile(p)) {
                    Found f = open(p.toString(), tried);
                    if (f != null) {
                        return f;
                    }
                }
            }
        }
        return null;
    }

    private static Found open(String nameOrPath, List<String> tried) {
        try {
            return new Found(SymbolLookup.libraryLookup(nameOrPath, Arena.global()), nameOrPath);
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            tried.add(nameOrPath);
            return null;
        }
    }

    private static List<Path> candidateDirs() {
        List<Path> dirs = new ArrayList<>();
        for (String env : new String[] {"CUDA_HOME", "CUDA_PATH"}) {
            String v = System.getenv(env);
            if (v != null) {
                dirs.add(Path.of(v, "lib64"));
            }
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda-13.0/lib64"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        // pip wheels: <prefix>/lib/python3.X/{site,dist}-packages/nvidia/cublas/lib
        for (String prefix : new String[] {"/usr/local/lib", "/usr/lib", System.getProperty("user.home") + "/.local/lib",
            "/opt/conda/lib"}) {
            Path root = Path.of(prefix);
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (DirectoryStream<Path> pythons = Files.newDirectoryStream(root, "python3*")) {
                for (Path py : pythons) {
                    dirs.add(py.resolve("site-packages/nvidia/cublas/lib"));
                    dirs.add(py.resolve("dist-packages/nvidia/cublas/lib"));
                }
            } catch (IOException ignored) {
                // an unreadable prefix is simply not a candidate
            }
        }
        return dirs;
    }
}
