package sdj.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Seconds since this process started, as a user waiting at the prompt counts them. The launcher execs the JVM
 * in its own process, so on Linux the count includes the launcher's shell, the JVM's start and everything
 * after: /proc/uptime less the process's start in clock ticks since boot (/proc/self/stat), both counted from
 * the boot, 10 ms resolution. (Java's ProcessHandle start instant adds the boot time in whole seconds, up to
 * a second off.) Elsewhere the JVM's own uptime is used.
 */
public final class ProcessClock {
    /** USER_HZ: the unit of /proc's tick counts, 100 on every Linux architecture sdj runs on. */
    private static final double TICKS_PER_SECOND = 100;

    private ProcessClock() {
    }

    public static double secondsSinceStart() {
        try {
            double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0]);
            return uptime - startTicks(Files.readString(Path.of("/proc/self/stat"))) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return ManagementFactory.getRuntimeMXBean().getUptime() / 1e3;
        }
    }

    /** Field 22 of /proc/PID/stat, the start time in ticks; counted after the command name, which may hold spaces. */
    static long startTicks(String stat) {
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Long.parseLong(after[19]); // fields 3.. follow the name; 22 is the 20th of them
    }
}
