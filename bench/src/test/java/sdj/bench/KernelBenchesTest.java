package sdj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The GEMM benches `sdj bench gemm` prints: shape label, 2·m·n·k FLOPs, at least three timed calls. */
class KernelBenchesTest {
    @Test
    void gemmCountsTwoMnkFlopsUnderItsShape() {
        Timing.Result r = KernelBenches.gemm(3, 5, 7, 0);
        assertEquals("gemm 3x5x7", r.label());
        assertEquals(210.0, r.flops());
        assertTrue(r.calls() >= 3 && r.bestSeconds() > 0, r.toString());
    }

    @Test
    void openBlasGemmTimesTheSameShape() {
        try (Arena arena = Arena.ofConfined()) {
            Optional<OpenBlas> blas = OpenBlas.load(arena);
            assumeTrue(blas.isPresent(), "no libopenblas installed: the native baseline is optional");
            Timing.Result r = KernelBenches.openBlasGemm(blas.get(), 3, 5, 7, 0);
            assertEquals("openblas sgemm 3x5x7", r.label());
            assertEquals(210.0, r.flops());
            assertTrue(r.calls() >= 3 && r.bestSeconds() > 0, r.toString());
        }
    }
}
