package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Launch shapes a GPU would refuse fail here too, on the emulator, instead of only on hardware. */
class LaunchShapeTest {
    @Test
    void gridYAndZStopAt65535() {
        assertEquals(65_535, LaunchShape.grid(1, 65_535, 65_535, 128, 0).gridY());
        var e = assertThrows(IllegalArgumentException.class, () -> LaunchShape.grid(1, 65_536, 1, 128, 0));
        assertTrue(e.getMessage().contains("grid (1, 65536, 1)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.grid(1, 1, 65_536, 128, 0));
    }

    @Test
    void blocksHoldOneTo1024Threads() {
        assertEquals(1024, LaunchShape.grid(1, 1, 1, 1024, 0).blockX());
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.grid(1, 1, 1, 1025, 0));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.grid(1, 1, 1, 0, 0));
    }

    @Test
    void anEmptyGridIsNoWorkButANegativeOneIsAnError() {
        assertTrue(LaunchShape.grid(LaunchShape.ceilDiv(0, 64), 8, 1, 128, 0).empty());
        assertTrue(LaunchShape.perRow(0).empty());
        assertFalse(LaunchShape.elementwise(0).empty()); // grid-stride: one block that finds nothing to do
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.grid(-1, 1, 1, 128, 0));
    }
}
