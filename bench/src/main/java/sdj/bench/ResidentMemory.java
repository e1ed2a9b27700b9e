package sdj.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The process's resident memory as Linux reports it in /proc/self/status: VmHWM is the peak resident
 * set (heap, code, and the pages of memory-mapped checkpoints that were touched), VmRSS the current one.
 */
public final class ResidentMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentMemory() {
    }

    /** The peak resident set in bytes, or empty where there is no /proc (not Linux). */
    public static OptionalLong peakBytes() {
        return field("VmHWM");
    }

    /** The current resident set in bytes, or empty where there is no /proc. */
    public static OptionalLong currentBytes() {
        return field("VmRSS");
    }

    private static OptionalLong field(String key) {
        try {
            return kilobytesField(Files.readString(STATUS), key);
        } catch (IOException | UnsupportedOperationException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The value of a "Key:   123 kB" line of /proc status text, in bytes; empty when the key is absent.
     * A line with another unit or no number is not something this reader knows: it fails, naming the line.
     */
    static OptionalLong kilobytesField(String statusText, String key) {
        for (String line : statusText.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0 || !line.substring(0, colon).equals(key)) {
                continue;
            }
            String[] parts = line.substring(colon + 1).trim().split("\\s+");
            if (parts.length != 2 || !parts[1].equals("kB") || !parts[0].matches("\\d+")) {
                throw new IllegalArgumentException("/proc status line '" + line + "' is not '" + key + ": <number> kB'");
            }
            return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
        }
        return OptionalLong.empty();
    }

    /** "4.27 GiB", or "unknown (no /proc)" when empty. */
    public static String describe(OptionalLong bytes) {
        return bytes.isPresent() ? String.format(java.util.Locale.ROOT, "%.2f GiB", bytes.getAsLong() / (double) (1L << 30))
                : "unknown (no /proc/self/status)";
    }
}
