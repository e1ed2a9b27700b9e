package sdj.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import sdj.backend.cpu.Parallel;
import sdj.bench.OpenBlas;
import sdj.bench.Timing;

/** `sdj bench gemm --baseline openblas`: OpenBLAS at the same shape and thread count, right after ours. */
final class NativeBaseline {
    private NativeBaseline() {
    }

    static void openBlasGemm(Timing.Result ours, int m, int n, int k, double seconds, double peak) {
        try (Arena arena = Arena.ofConfined()) {
            OpenBlas blas = OpenBlas.load(arena).orElseThrow(() -> new UserError("no libopenblas found: install it "
                    + "(Debian: apt-get install libopenblas-dev) or point SDJ_OPENBLAS at libopenblas.so"));
            blas.setThreads(Parallel.threads());
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, Timing.random(m * k, 1));
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, Timing.random(k * n, 2));
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
            Timing.Result r = Timing.time("openblas sgemm " + m + "x" + n + "x" + k, 2.0 * m * n * k, seconds,
                    () -> blas.sgemm(m, n, k, a, b, c));
            System.out.println("baseline: " + blas.describe());
            System.out.printf(Locale.ROOT, "openblas: %.1f GFLOP/s = %.1f%% of fp32 peak; sdj GEMM = %.1f%% of OpenBLAS%n",
                    r.gflops(), 100 * r.gflops() / peak, 100 * ours.gflops() / r.gflops());
        }
    }
}
