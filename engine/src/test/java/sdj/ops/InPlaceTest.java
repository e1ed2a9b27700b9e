package sdj.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/** copy_, add_, mul_, zero_ on host tensors: values by hand, views written through their strides, the guards. */
class InPlaceTest {
    @Test
    void addScaledWritesIntoTheSameStorage() {
        float[] data = {1, 2, 3, 4};
        Tensor p = Tensor.of(data, 2, 2);
        Tensor r = InPlace.add_(p, Tensor.of(new float[] {10, 20, 30, 40}, 2, 2), -0.5f);
        assertSame(p, r);
        assertArrayEquals(new float[] {-4, -8, -12, -16}, data); // the caller's array itself changed
    }

    @Test
    void addBroadcastsARowIntoEveryRow() {
        Tensor p = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        InPlace.add_(p, Tensor.of(new float[] {1, 0, -1}, 3), 2f);
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4}, p.floats());
    }

    @Test
    void updatesThroughATransposedViewLandInTheRightPlaces() {
        float[] data = {1, 2, 3, 4, 5, 6}; // [2, 3]
        Tensor t = Tensor.of(data, 2, 3).transpose(0, 1); // [3, 2] view, strides (1, 3)
        InPlace.add_(t, Tensor.of(new float[] {100, 200, 300, 400, 500, 600}, 3, 2), 1f);
        // t[i][j] = data[j*3 + i] += (i*2 + j + 1)·100
        assertArrayEquals(new float[] {101, 302, 503, 204, 405, 606}, data);
        InPlace.mul_(t.narrow(0, 1, 1), 0.5f); // column 1 of the original
        assertArrayEquals(new float[] {101, 151, 503, 204, 202.5f, 606}, data);
    }

    @Test
    void scalingAndCopyingIntoAContiguousSliceTouchOnlyIt() {
        float[] data = new float[100_003]; // large enough to be split over threads
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        Tensor slice = Tensor.of(data, 100_003).narrow(0, 3, 100_000); // contiguous, offset 3
        InPlace.mul_(slice, 0.5f);
        for (int i = 0; i < data.length; i++) {
            assertEquals(i < 3 ? i : i * 0.5f, data[i], "element " + i);
        }
        float[] source = new float[100_000];
        for (int i = 0; i < source.length; i++) {
            source[i] = -i;
        }
        InPlace.copy_(slice, Tensor.of(source, 100_000));
        for (int i = 0; i < data.length; i++) {
            assertEquals(i < 3 ? i : 3 - i, data[i], "copied element " + i);
        }
    }

    @Test
    void copyAndZero() {
        float[] data = new float[6];
        Tensor p = Tensor.of(data, 2, 3);
        InPlace.copy_(p.narrow(1, 1, 2), Tensor.of(new float[] {7, 8}, 2));
        assertArrayEquals(new float[] {0, 7, 8, 0, 7, 8}, data);
        InPlace.zero_(p.narrow(0, 1, 1));
        assertArrayEquals(new float[] {0, 7, 8, 0, 0, 0}, data);
    }

    @Test
    void aParameterIsUpdatedInPlaceOnlyOutsideTheTape() {
        Tensor w = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> InPlace.mul_(w, 2f));
        assertTrue(e.getMessage().contains("Autograd.noGrad()"), e.getMessage());
        try (var g = Autograd.noGrad()) {
            InPlace.mul_(w, 2f);
        }
        assertArrayEquals(new float[] {2, 4}, w.floats());
    }

    @Test
    void refusesShapesThatDoNotBroadcastIntoTheTarget() {
        Tensor p = Tensor.zeros(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InPlace.add_(p, Tensor.zeros(2, 3), 1f));
        assertEquals("add_ cannot broadcast [2, 3] into [3]", e.getMessage());
    }

    @Test
    void refusesToWriteIntoAMappedTensor() {
        Tensor mapped = new Tensor(Storage.ofSegment(MemorySegment.ofArray(new byte[8]), DType.F32), new int[] {2},
                new int[] {1}, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InPlace.mul_(mapped, 2f));
        assertTrue(e.getMessage().startsWith("mul_ writes into fp32 heap tensors only"), e.getMessage());
    }
}
