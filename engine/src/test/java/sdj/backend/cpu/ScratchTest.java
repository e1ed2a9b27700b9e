package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ScratchTest {
    @Test
    void takeRoundsUpToAPowerOfTwoAndReusesWhatWasGivenBack() {
        float[] a = Scratch.take(1000);
        assertEquals(1024, a.length);
        Scratch.give(a);
        float[] b = Scratch.take(600);
        assertSame(a, b, "a returned buffer of the same size class is handed out again");
        float[] c = Scratch.take(600);
        assertNotSame(b, c, "a buffer in use is never handed out twice");
        Scratch.give(b);
        Scratch.give(c);
    }

    @Test
    void arraysNotFromThePoolAreNotKept() {
        long before = Scratch.pooledBytes();
        Scratch.give(new float[1000]);
        Scratch.give(null);
        assertEquals(before, Scratch.pooledBytes());
    }

    @Test
    void refusesRequestsBeyondTheLargestSizeClass() {
        assertThrows(IllegalArgumentException.class, () -> Scratch.take((1 << 30) + 1));
    }
}
