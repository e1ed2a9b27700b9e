package sdj.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import sdj.ops.Unary;

class AutogradTest {
    private static Tensor leaf(float... values) {
        return Tensor.of(values, values.length).requiresGrad(true);
    }

    @Test
    void gradientsAccumulateOverBackwardPasses() {
        Tensor x = leaf(1, 2, 3);
        x.mul(x).sum().backward(); // d/dx Σx² = 2x
        assertArrayEquals(new float[] {2, 4, 6}, x.grad().toFloatArray());
        x.mul(3f).sum().backward(); // + 3
        assertArrayEquals(new float[] {5, 7, 9}, x.grad().toFloatArray());
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void aClearedGradientsStorageIsFilledAgainWithTheSameValues() {
        Tensor x = leaf(1, 2, 3);
        Tensor fresh = leaf(1, 2, 3);
        x.mul(x).sum().backward();
        Tensor first = x.grad();
        x.clearGradKeepingStorage();
        assertNull(x.grad());
        for (Tensor t : new Tensor[] {x, fresh}) { // two passes accumulate: 2x, then + 3
            t.mul(x.detach()).mul(2f).sum().backward();
            t.add(1f).mul(3f).sum().backward();
        }
        assertTrue(first == x.grad(), "the kept storage holds the new gradient");
        assertArrayEquals(fresh.grad().toFloatArray(), x.grad().toFloatArray());
        assertArrayEquals(new float[] {5, 7, 9}, x.grad().toFloatArray());
        x.zeroGrad(); // forgets the storage too
        x.mul(3f).sum().backward();
        assertFalse(first == x.grad());
        assertArrayEquals(new float[] {5, 7, 9}, first.toFloatArray(), "the old gradient is no longer written");
    }

    @Test
    void tensorUsedTwiceGetsTheSumOfBothPaths() {
        Tensor x = leaf(2, -1);
        // y = exp(x)·x + x: dy/dx = exp(x)·(x + 1) + 1
        Tensor y = Unary.exp(x).mul(x).add(x);
        y.sum().backward();
        double e2 = Math.exp(2);
        double em1 = Math.exp(-1);
        assertArrayEquals(new float[] {(float) (e2 * 3 + 1), (float) (em1 * 0 + 1)}, x.grad().toFloatArray(), 1e-5f);
    }

    @Test
    void diamondGraphReachesLeafOnce() {
        // a = 2x; b = a + a; loss = Σ b·a  = Σ 8x² → grad 16x
        Tensor x = leaf(1, 3);
        Tensor a = x.mul(2f);
        a.add(a).mul(a).sum().backward();
        assertArrayEquals(new float[] {16, 48}, x.grad().toFloatArray());
    }

    @Test
    void noGradRecordsNothing() {
        Tensor x = leaf(1, 2);
        Tensor y;
        try (var scope = Autograd.noGrad()) {
            assertFalse(Autograd.isGradEnabled());
            y = Unary.exp(x).mul(x).sum();
        }
        assertTrue(Autograd.isGradEnabled());
        assertNull(y.gradFn());
        assertFalse(y.requiresGrad());
        assertThrows(IllegalStateException.class, y::backward);
    }

    @Test
    void noGradScopesNest() {
        try (var outer = Autograd.noGrad()) {
            try (var inner = Autograd.noGrad()) {
                assertFalse(Autograd.isGradEnabled());
            }
            assertFalse(Autograd.isGradEnabled());
        }
        assertTrue(Autograd.isGradEnabled());
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = leaf(1, 2);
        Tensor d = x.mul(x).detach();
        assertNull(d.gradFn());
        assertFalse(d.requiresGrad());
        assertArrayEquals(new float[] {1, 4}, d.toFloatArray());
        // loss = Σ (x² detached)·x: only the direct path contributes, grad = x²
        d.mul(x).sum().backward();
        assertArrayEquals(new float[] {1, 4}, x.grad().toFloatArray());
    }

    @Test
    void backwardOfNonScalarNeedsAnExplicitGradient() {
        Tensor x = leaf(1, 2, 3);
        Tensor y = x.mul(2f);
        assertThrows(IllegalStateException.class, y::backward);
        y.backward(Tensor.of(new float[] {1, 10, 100}, 3));
        assertArrayEquals(new float[] {2, 20, 200}, x.grad().toFloatArray());
    }

    @Test
    void onlyInputsThatRequireGradReceiveOne() {
        Tensor x = leaf(1, 2);
        Tensor c = Tensor.of(new float[] {3, 4}, 2);
        x.mul(c).sum().backward();
        assertNull(c.grad());
        assertNotNull(x.grad());
        assertArrayEquals(new float[] {3, 4}, x.grad().toFloatArray());
    }

    @Test
    void recordsTheProducingOp() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(x);
        assertNotNull(y.gradFn());
        assertTrue(y.requiresGrad());
        assertNull(x.gradFn());
        assertThrows(IllegalStateException.class, () -> y.requiresGrad(false));
    }
}
