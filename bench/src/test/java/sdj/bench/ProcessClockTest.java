package sdj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class ProcessClockTest {
    @Test
    void startTicksIsField22CountedAfterACommandNameWithSpacesAndParentheses() {
        String stat = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 1200 0 3 0 25 7 0 0 20 0 2 0 6335069 3133440 393 0";
        assertEquals(6335069, ProcessClock.startTicks(stat));
    }

    @Test
    void theProcessIsAsOldAsItsJvmAndNotMuchOlder() {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "needs Linux's /proc");
        double jvm = ManagementFactory.getRuntimeMXBean().getUptime() / 1e3;
        double process = ProcessClock.secondsSinceStart();
        // the JVM's clock starts after the process's exec; /proc counts in 10 ms ticks
        assertTrue(process >= jvm - 0.02, process + " s since the process started, " + jvm + " s since the JVM did");
        assertTrue(process < jvm + 5, process + " s since the process started, " + jvm + " s since the JVM did");
    }
}
