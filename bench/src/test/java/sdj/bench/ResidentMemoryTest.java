package sdj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Reading VmHWM/VmRSS out of /proc status text. */
class ResidentMemoryTest {
    // an excerpt of a real /proc/self/status (tabs after the colon, as the kernel writes them)
    private static final String STATUS = "Name:\tjava\nVmPeak:\t 9876544 kB\nVmSize:\t 9876540 kB\nVmLck:\t       0 kB\n"
            + "VmHWM:\t 1234567 kB\nVmRSS:\t  765432 kB\nThreads:\t23\n";

    @Test
    void readsTheNamedKilobyteFieldAsBytes() {
        assertEquals(OptionalLong.of(1234567L * 1024), ResidentMemory.kilobytesField(STATUS, "VmHWM"));
        assertEquals(OptionalLong.of(765432L * 1024), ResidentMemory.kilobytesField(STATUS, "VmRSS"));
    }

    @Test
    void aMissingKeyIsEmptyAndAPrefixIsNotAMatch() {
        assertEquals(OptionalLong.empty(), ResidentMemory.kilobytesField(STATUS, "VmSwap"));
        assertEquals(OptionalLong.empty(), ResidentMemory.kilobytesField(STATUS, "VmH"));
    }

    @Test
    void aLineInAnotherShapeIsRefusedNamingIt() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ResidentMemory.kilobytesField("VmHWM:\t 12 MB\n", "VmHWM"));
        assertTrue(e.getMessage().contains("'VmHWM:\t 12 MB'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ResidentMemory.kilobytesField("Threads:\t23\n", "Threads"));
    }

    @Test
    void thisProcessHasAPeakAtLeastItsCurrentResidentSet() {
        OptionalLong now = ResidentMemory.currentBytes(); // read first: the set may grow before the peak is read
        OptionalLong peak = ResidentMemory.peakBytes();
        if (peak.isPresent()) { // Linux
            assertTrue(now.isPresent());
            assertTrue(peak.getAsLong() >= now.getAsLong() && now.getAsLong() > 1 << 20, peak + " vs " + now);
        }
    }
}
