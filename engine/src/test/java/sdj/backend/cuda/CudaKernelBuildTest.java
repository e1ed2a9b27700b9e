package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Checks the build output without a GPU: when nvcc is installed, every kernels/*.cu became a
 * packaged sdj/kernels/*.ptx declaring the entry points the Java side launches.
 */
class CudaKernelBuildTest {
    private static final List<String> DTYPES = List.of("f32", "f16", "bf16");

    /** Kernel names per family; those in PER_DTYPE exist as name_f32, name_f16 and name_bf16. */
    private static final Map<String, List<String>> PER_DTYPE = Map.ofEntries(
            Map.entry("elementwise", List.of("activation_forward", "activation_backward", "binary_forward", "affine",
                    "geglu_forward", "geglu_backward")),
            Map.entry("reduce", List.of("sum_keep_middle")),
            Map.entry("softmax", List.of("softmax_forward", "softmax_backward")),
            Map.entry("norm", List.of("layer_norm_forward", "layer_norm_backward", "layer_norm_param_grads", "group_norm_forward",
                    "group_norm_backward")),
            Map.entry("embedding", List.of("embedding_forward", "embedding_backward")),
            Map.entry("upsample", List.of("upsample_nearest_forward", "upsample_nearest_backward")),
            Map.entry("conv", List.of("im2col", "col2im")),
            Map.entry("attention", List.of("attention_forward", "attention_backward_delta", "attention_backward_dq",
                    "attention_backward_dkdv")),
            Map.entry("gemm", List.of()),
            Map.entry("copy", List.of()),
            Map.entry("optim", List.of("adamw_step")));
    private static final Map<String, List<String>> SINGLE = Map.of(
            "elementwise", List.of("cast_f32_to_f16", "cast_f32_to_bf16", "cast_f16_to_f32", "cast_bf16_to_f32"),
            "gemm", List.of("gemm_f32", "gemm_tc_f16", "gemm_tc_bf16"),
            "attention", List.of("attention_forward_tc_f16", "attention_forward_tc_bf16"),
            "copy", List.of("strided_copy_b16", "strided_copy_b32"));

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)");

    @Test
    void everyKernelSourceIsAKnownFamily() throws IOException {
        assertEquals(new TreeSet<>(KernelBuild.FAMILIES), sourceFamilies());
        assertEquals(new TreeSet<>(KernelBuild.FAMILIES), new TreeSet<>(PER_DTYPE.keySet()));
    }

    @Test
    void everyKernelSourceProducedPtxWithItsEntryPoints() throws IOException {
        assumeTrue(nvccOnPath(), "skipped: nvcc is not on PATH, so the build packaged no PTX");
        assertNull(KernelBuild.problem(), "the build marker and every family's PTX are packaged");
        for (String family : sourceFamilies()) {
            String ptx = resource(family + ".ptx");
            assertNotNull(ptx, family + ".cu produced no packaged " + family + ".ptx");
            Set<String> entries = new TreeSet<>();
            Matcher m = ENTRY.matcher(ptx);
            while (m.find()) {
                entries.add(m.group(1));
            }
            for (String name : PER_DTYPE.getOrDefault(family, List.of())) {
                for (String dtype : DTYPES) {
                    assertTrue(entries.contains(name + "_" + dtype), family + ".ptx lacks .entry " + name + "_" + dtype);
                }
            }
            for (String name : SINGLE.getOrDefault(family, List.of())) {
                assertTrue(entries.contains(name), family + ".ptx lacks .entry " + name);
            }
        }
    }

    @Test
    void withoutNvccTheBackendSaysKernelsWereNotBuilt() {
        assumeTrue(!nvccOnPath(), "skipped: nvcc is on PATH, so kernels were built");
        assertEquals("kernels were not built (nvcc missing at build time)", KernelBuild.problem());
    }

    private static Set<String> sourceFamilies() throws IOException {
        Path dir = Files.isDirectory(Path.of("../kernels")) ? Path.of("../kernels") : Path.of("kernels");
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .map(n -> n.substring(0, n.length() - 3)).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = CudaKernelBuildTest.class.getResourceAsStream("/sdj/kernels/" + name)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static boolean nvccOnPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        return false;
    }
}
