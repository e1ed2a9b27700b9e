package sdj.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ViewTest {
    private static Tensor range(int... shape) {
        int n = (int) Shape.numel(shape);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = i;
        }
        return Tensor.of(d, shape);
    }

    @Test
    void transposeReadsColumnsWithoutCopy() {
        Tensor x = range(2, 3);
        Tensor t = x.transpose(0, 1);
        assertArrayEquals(new int[] {3, 2}, t.shape());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, t.toFloatArray());
        assertTrue(t.storage() == x.storage());
    }

    @Test
    void permuteNarrowExpandCompose() {
        Tensor x = range(2, 3, 4);
        Tensor p = x.permute(2, 0, 1); // [4,2,3]
        assertEquals(13f, p.get(1, 1, 0)); // x[1,0,1] = 12 + 1
        Tensor n = x.narrow(2, 1, 2); // [2,3,2]
        assertArrayEquals(new float[] {1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}, n.toFloatArray());
        Tensor e = Tensor.of(new float[] {7, 8}, 2, 1).expand(2, 3);
        assertArrayEquals(new float[] {7, 7, 7, 8, 8, 8}, e.toFloatArray());
        assertArrayEquals(new int[] {0, 0}, new int[] {e.strides()[1], 0});
    }

    @Test
    void viewInfersMinusOneAndRejectsBadSizes() {
        Tensor x = range(2, 3, 4);
        assertArrayEquals(new int[] {6, 4}, x.view(-1, 4).shape());
        assertThrows(IllegalArgumentException.class, () -> x.view(5, -1));
        assertThrows(IllegalStateException.class, () -> x.transpose(0, 1).view(24));
        assertArrayEquals(x.transpose(0, 1).toFloatArray(), x.transpose(0, 1).reshape(24).toFloatArray());
    }

    @Test
    void unsqueezeSqueezeSelect() {
        Tensor x = range(2, 3);
        assertArrayEquals(new int[] {2, 1, 3}, x.unsqueeze(1).shape());
        assertArrayEquals(new int[] {2, 3}, x.unsqueeze(1).squeeze(1).shape());
        assertArrayEquals(new float[] {1, 4}, x.select(1, 1).toFloatArray());
    }

    @Test
    void halfAndBfloatStorageRoundTrip() {
        Tensor x = Tensor.of(new float[] {1f, -2.5f, 65504f, 1e-3f}, 4);
        Tensor h = x.to(DType.F16);
        assertEquals(DType.F16, h.dtype());
        assertArrayEquals(new float[] {1f, -2.5f, 65504f, 0.0010004044f}, h.toFloatArray());
        Tensor b = x.to(DType.BF16);
        // bf16 keeps 8 mantissa bits: 65504 rounds to 65536, 1e-3 to 0.0010004044 -> 0.00099945068
        assertArrayEquals(new float[] {1f, -2.5f, 65536f, 0.0009994507f}, b.toFloatArray());
    }

    @Test
    void outOfBoundsViewIsRejected() {
        Storage s = Storage.allocate(DType.F32, 5);
        assertThrows(IllegalArgumentException.class, () -> new Tensor(s, new int[] {2, 3}, new int[] {3, 1}, 0));
    }
}
