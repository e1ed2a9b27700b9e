package sdj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import sdj.backend.cpu.Gemm;

class OpenBlasTest {
    @Test
    void baselineComputesTheSameProductAsOurGemm() {
        try (Arena arena = Arena.ofConfined()) {
            Optional<OpenBlas> blas = OpenBlas.load(arena);
            assumeTrue(blas.isPresent(), "no libopenblas installed: the native baseline is optional");
            int m = 37;
            int n = 53;
            int k = 29;
            float[] a = Timing.random(m * k, 3);
            float[] b = Timing.random(k * n, 4);
            float[] ours = new float[m * n];
            Gemm.sgemm(m, n, k, Gemm.Operand.rowMajor(a, 0, k), Gemm.Operand.rowMajor(b, 0, n), ours, 0, n, false);
            MemorySegment na = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
            MemorySegment nb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
            MemorySegment nc = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
            blas.get().sgemm(m, n, k, na, nb, nc);
            float[] theirs = nc.toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < m * n; i++) {
                assertEquals(ours[i], theirs[i], 1e-5f * (1 + Math.abs(ours[i])), "element " + i);
            }
        }
    }
}
