package sdj;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The engine's layering, read from the sources: backends implement the {@code sdj.tensor.Backend} SPI and
 * know nothing of the ops, modules or networks built on them; tensors, modules and networks reach a backend
 * only through that SPI. Both imports and fully qualified names in code count.
 */
class PackageRulesTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Pattern REFERENCE = Pattern.compile("\\bsdj\\.(backend|ops|nn|sd|tensor)\\b[.\\w]*");

    @Test
    void backendsImportNothingFromOpsModulesOrNetworks() throws IOException {
        assertEquals(List.of(), violations("sdj/backend", "ops", "nn", "sd"));
    }

    @Test
    void tensorsModulesAndNetworksReachBackendsOnlyThroughTheSpi() throws IOException {
        List<String> found = new ArrayList<>();
        for (String pkg : List.of("sdj/tensor", "sdj/nn", "sdj/sd", "sdj/ops", "sdj/train")) {
            found.addAll(violations(pkg, "backend"));
        }
        assertEquals(List.of(), found);
    }

    @Test
    void theRuleSeesAViolation() {
        // the scanner itself: a fully qualified call in code is caught, a mention in a comment is not
        assertEquals(List.of("X.java: sdj.backend.cuda.CudaOps.shared"),
                referencesIn("X.java", "// sdj.backend.cpu is the CPU\nvar o = sdj.backend.cuda.CudaOps.shared();", "backend"));
    }

    @Test
    void noMainSourceFileIsOver600Lines() throws IOException {
        List<String> long_ = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                long lines = Files.readAllLines(f).size();
                if (lines > 600) {
                    long_.add(MAIN.relativize(f) + " has " + lines + " lines");
                }
            }
        }
        assertEquals(List.of(), long_);
    }

    @Test
    void theEngineRegistersBothBackends() throws IOException {
        String services = Files.readString(Path.of("src/main/resources/META-INF/services/sdj.tensor.Backend"));
        assertTrue(services.contains("sdj.backend.cpu.CpuBackend") && services.contains("sdj.backend.cuda.CudaBackend"),
                services);
    }

    /** References from the sources under pkg to any of the forbidden top-level packages. */
    private static List<String> violations(String pkg, String... forbidden) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN.resolve(pkg))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                found.addAll(referencesIn(MAIN.relativize(f).toString(), Files.readString(f), forbidden));
            }
        }
        return found;
    }

    private static List<String> referencesIn(String file, String source, String... forbidden) {
        List<String> found = new ArrayList<>();
        Matcher m = REFERENCE.matcher(stripComments(source));
        while (m.find()) {
            if (List.of(forbidden).contains(m.group(1))) {
                found.add(file + ": " + m.group().replaceAll("\\.$", ""));
            }
        }
        return found;
    }

    /** Source without comments (block, Javadoc and line comments), so prose may name any package. */
    private static String stripComments(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
    }
}
