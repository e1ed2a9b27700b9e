package sdj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import sdj.sd.verify.Check;

/** The README's after-update rule: fragile elements within an absolute bound, the others relative to max|b|. */
class FragileWeightCheckTest {
    private static final float[] EXPECTED = {2f, -1f, 0.5f, 0f};

    @Test
    void aFragileElementMayDifferUpToItsBound() {
        float[] actual = {2f, -1f, 0.5f + 2.9e-4f, 0f};
        Check c = FragileWeightCheck.compare("w", actual, EXPECTED, new long[] {2}, false, 3e-4, 1e-4);
        assertTrue(c.pass());
        assertEquals(2.9e-4, c.maxAbsErr(), 1e-7);
        assertEquals(2.9e-4 / 2, c.maxRelErr(), 1e-7);
    }

    @Test
    void theSameErrorOnAnotherElementFails() {
        float[] actual = {2f, -1f, 0.5f, 2.9e-4f}; // element 3 is not fragile: bound 1e-4·2 = 2e-4
        assertFalse(FragileWeightCheck.compare("w", actual, EXPECTED, new long[] {2}, false, 3e-4, 1e-4).pass());
        assertTrue(FragileWeightCheck.compare("w", actual, EXPECTED, new long[] {}, true, 3e-4, 1e-4).pass(),
                "a noise tensor: every element is fragile");
        float[] within = {2f, -1f, 0.5f, 1.9e-4f};
        assertTrue(FragileWeightCheck.compare("w", within, EXPECTED, new long[] {2}, false, 3e-4, 1e-4).pass());
    }

    @Test
    void aFragileElementBeyondItsBoundFails() {
        float[] actual = {2f, -1f, 0.5f + 3.1e-4f, 0f};
        assertFalse(FragileWeightCheck.compare("w", actual, EXPECTED, new long[] {2}, false, 3e-4, 1e-4).pass());
        assertFalse(FragileWeightCheck.compare("w", new float[] {Float.NaN, -1f, 0.5f, 0f}, EXPECTED, new long[] {0},
                false, 3e-4, 1e-4).pass(), "NaN never passes");
    }

    @Test
    void anIndexOutsideTheTensorIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FragileWeightCheck.compare("w", EXPECTED, EXPECTED, new long[] {4}, false, 3e-4, 1e-4));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }
}
