package sdj.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The CPU's theoretical fp32 peak, so benchmarks can report a fraction of it:
 * cores × clock × FLOP per cycle, where FLOP per cycle = FMA pipes × fp32 lanes × 2. The clock is
 * measured, since a VM's /proc/cpuinfo shows the base clock (2.6 GHz here) while the cores boost to ~4.
 * Override with {@code -Dsdj.peakGflops=...} where the detection is wrong.
 */
public final class Machine {
    private Machine() {
    }

    public static double fp32PeakGflops(int threads) {
        String override = System.getProperty("sdj.peakGflops");
        if (override != null) {
            return Double.parseDouble(override) * threads / Runtime.getRuntime().availableProcessors();
        }
        return threads * clockGhz() * flopsPerCycle();
    }

    /** FLOP per cycle per core: Zen 5 and Intel server AVX-512 cores have two 512-bit FMA pipes (64);
     * Zen 4 runs AVX-512 on two 256-bit pipes (32); AVX2-only cores have two 256-bit pipes (32). */
    public static int flopsPerCycle() {
        String info = cpuinfo();
        boolean avx512 = info.contains(" avx512f");
        boolean amd = info.contains("AuthenticAMD");
        int family = field(info, "cpu family");
        if (avx512 && (!amd || family >= 26)) {
            return 64;
        }
        return 32;
    }

    /** The clock the cores actually run at (measured once; turbo clocks are far above the nominal one). */
    public static double clockGhz() {
        if (measuredGhz == 0) {
            measuredGhz = measureClockGhz();
        }
        return measuredGhz > 0 ? measuredGhz : nominalClockGhz();
    }

    /** The clock /proc/cpuinfo states (in VMs: the base clock, not what the cores run at). */
    public static double nominalClockGhz() {
        int mhz = field(cpuinfo(), "cpu MHz");
        return mhz > 0 ? mhz / 1000.0 : 2.5;
    }

    private static volatile double measuredGhz;

    /**
     * Times a chain of dependent rotate-and-add steps: each takes one cycle per op on x86 cores and
     * nothing can run ahead, so ops per nanosecond is the clock in GHz. Best of several short rounds
     * (about 0.3 s in all); 0 if the result is implausible.
     */
    static double measureClockGhz() {
        long x = 1;
        double best = 0;
        for (int round = 0; round < 6; round++) {
            long n = 50_000_000L;
            long t0 = System.nanoTime();
            x = dependentChain(x, n);
            best = Math.max(best, 2.0 * n / (System.nanoTime() - t0));
        }
        SINK = x;
        return best > 0.5 && best < 7 ? best : 0;
    }

    @SuppressWarnings("unused")
    private static volatile long SINK;

    private static long dependentChain(long x, long n) {
        for (long i = 0; i < n; i++) {
            x = Long.rotateLeft(x, 1) + 1;
        }
        return x;
    }

    public static String describe() {
        String info = cpuinfo();
        String model = "unknown CPU";
        for (String line : info.split("\n")) {
            if (line.startsWith("model name")) {
                model = line.substring(line.indexOf(':') + 1).trim();
                break;
            }
        }
        return String.format(java.util.Locale.ROOT, "%s family %d, %.2f GHz measured (%.2f nominal) x %d FLOP/cycle/core",
                model, field(info, "cpu family"), clockGhz(), nominalClockGhz(), flopsPerCycle());
    }

    private static String cpuinfo() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            StringBuilder sb = new StringBuilder();
            for (String l : lines) {
                if (l.isBlank()) {
                    break; // the first processor is enough
                }
                sb.append(l).append('\n');
            }
            return sb.toString();
        } catch (IOException e) {
            return "";
        }
    }

    private static int field(String info, String key) {
        for (String line : info.split("\n")) {
            if (line.startsWith(key)) {
                try {
                    return (int) Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
