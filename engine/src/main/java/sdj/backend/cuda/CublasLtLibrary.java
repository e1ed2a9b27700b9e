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
 * then CUDA toolkit folders and pip-installed NVIDIA wheels (see {@link #candidateDirs()}).
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

    /**
     * Toolkit folders ({@code $CUDA_HOME/lib64}, {@code /usr/local/cuda*}, including CUDA 13's
     * {@code targets/x86_64-linux/lib}), then pip wheels: CUDA 13 puts every library in
     * {@code nvidia/cu13/lib}, CUDA 12 cuBLAS in {@code nvidia/cublas/lib}, under the site-packages of
     * the system Pythons, {@code ~/.local}, conda, {@code $VIRTUAL_ENV} and virtualenvs in {@code /opt/*}.
     */
    static List<Path> candidateDirs() {
        List<Path> dirs = new ArrayList<>();
        List<Path> toolkits = new ArrayList<>();
        for (String env : new String[] {"CUDA_HOME", "CUDA_PATH"}) {
            String v = System.getenv(env);
            if (v != null) {
                toolkits.add(Path.of(v));
            }
        }
        toolkits.add(Path.of("/usr/local/cuda"));
        toolkits.addAll(children(Path.of("/usr/local"), "cuda-*"));
        for (Path toolkit : toolkits) {
            dirs.add(toolkit.resolve("lib64"));
            dirs.add(toolkit.resolve("targets/x86_64-linux/lib"));
        }
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        List<Path> libRoots = new ArrayList<>(List.of(Path.of("/usr/local/lib"), Path.of("/usr/lib"),
                Path.of(System.getProperty("user.home"), ".local/lib"), Path.of("/opt/conda/lib")));
        String venv = System.getenv("VIRTUAL_ENV");
        if (venv != null) {
            libRoots.add(Path.of(venv, "lib"));
        }
        for (Path opt : children(Path.of("/opt"), "*")) {
            libRoots.add(opt.resolve(".venv/lib"));
            libRoots.add(opt.resolve("lib"));
        }
        for (Path root : libRoots) {
            for (Path python : children(root, "python3*")) {
                for (String packages : new String[] {"site-packages", "dist-packages"}) {
                    dirs.add(python.resolve(packages).resolve("nvidia/cu13/lib"));
                    dirs.add(python.resolve(packages).resolve("nvidia/cublas/lib"));
                }
            }
        }
        return dirs;
    }

    /** The entries of {@code dir} matching {@code glob}; none when it is missing or unreadable. */
    private static List<Path> children(Path dir, String glob) {
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, glob)) {
                entries.forEach(found::add);
            } catch (IOException ignored) {
                // an unreadable folder is simply not a candidate
            }
        }
        found.sort(null);
        return found;
    }
}
