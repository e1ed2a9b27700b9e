package sdj.cli;

import java.lang.foreign.Arena;
import java.util.Locale;
import sdj.backend.cpu.Parallel;
import sdj.bench.KernelBenches;
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
            Timing.Result r = KernelBenches.openBlasGemm(blas, m, n, k, seconds);
            System.out.println("baseline: " + blas.describe());
            System.out.printf(Locale.ROOT, "openblas: %.1f GFLOP/s = %.1f%% of fp32 peak; sdj GEMM = %.1f%% of OpenBLAS%n",
                    r.gflops(), 100 * r.gflops() / peak, 100 * ours.gflops() / r.gflops());
        }
    }
}
