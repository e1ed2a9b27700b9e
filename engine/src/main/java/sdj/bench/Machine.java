package sdj.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The CPU's theoretical fp32 peak, so benchmarks can report a fraction of it:
 * cores × clock × FLOP per cycle, where FLOP per cycle = FMA pipes × fp32 lanes × 2.
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

    public static double clockGhz() {
        int mhz = field(cpuinfo(), "cpu MHz");
        return mhz > 0 ? mhz / 1000.0 : 2.5;
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
        return String.format(java.util.Locale.ROOT, "%s family %d, %.2f GHz x %d FLOP/cycle/core", model,
                field(info, "cpu family"), clockGhz(), flopsPerCycle());
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
