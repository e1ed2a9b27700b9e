package sdj.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import sdj.ops.F;
import sdj.ops.Unary;

/** Activation checkpointing and the grad-mode scopes it relies on. */
class CheckpointTest {
    private final Tensor w = random(11, 4, 4).requiresGrad(true);
    private final Tensor b = random(12, 4).requiresGrad(true);

    /** A block reading its input three times and two parameters it is not given as inputs. */
    private Tensor block(Tensor x) {
        Tensor h = F.linear(x, w, b);
        return Unary.tanh(h).mul(h).add(x);
    }

    private final Function<Tensor[], Tensor> blockFn = in -> block(in[0]);

    private static Tensor random(long seed, int... shape) {
        return sdj.ops.GradCheck.Rand.uniform(seed, shape);
    }

    /** The loss, x's gradient and the parameters' gradients after one backward of {@code loss}. */
    private record Grads(float loss, float[] x, float[] w, float[] b) {
    }

    private Grads run(Tensor x, Supplier<Tensor> loss) {
        w.zeroGrad();
        b.zeroGrad();
        x.zeroGrad();
        Tensor l = loss.get();
        l.backward();
        return new Grads(l.item(), x.grad() == null ? null : x.grad().toFloatArray(), w.grad().toFloatArray(),
                b.grad().toFloatArray());
    }

    private static void assertSameGrads(Grads expected, Grads actual) {
        assertEquals(expected.loss(), actual.loss());
        assertArrayEquals(expected.x(), actual.x());
        assertArrayEquals(expected.w(), actual.w());
        assertArrayEquals(expected.b(), actual.b());
    }

    @Test
    void gradientsEqualTheUncheckpointedOnesExactly() {
        Tensor x = random(1, 3, 4).requiresGrad(true);
        // x also feeds the loss directly, so its gradient sums a path outside the checkpoint
        Grads plain = run(x, () -> Unary.square(block(x)).sum().add(x.sum()));
        Grads ckpt = run(x, () -> Unary.square(Autograd.checkpoint(blockFn, x)).sum().add(x.sum()));
        assertNotNull(plain.x());
        assertSameGrads(plain, ckpt);
    }

    @Test
    void parametersInsideGetGradientsWhenNoInputRequiresGrad() {
        Tensor x = random(2, 3, 4); // torch's reentrant checkpoint would record nothing here
        Grads plain = run(x, () -> Unary.square(block(x)).sum());
        Grads ckpt = run(x, () -> Unary.square(Autograd.checkpoint(blockFn, x)).sum());
        assertNull(ckpt.x());
        assertSameGrads(plain, ckpt);
    }

    @Test
    void aParameterSharedByTwoCheckpointsAccumulatesBothUses() {
        Tensor x = random(3, 2, 4).requiresGrad(true);
        Grads plain = run(x, () -> Unary.square(block(block(x))).sum());
        Grads ckpt = run(x, () -> Unary.square(Autograd.checkpoint(blockFn, Autograd.checkpoint(blockFn, x))).sum());
        assertSameGrads(plain, ckpt);
    }

    @Test
    void nestedCheckpointsRecomputeLevelByLevel() {
        Tensor x = random(4, 2, 4).requiresGrad(true);
        Tensor scale = random(5, 4);
        Function<Tensor[], Tensor> outer = in -> block(Autograd.checkpoint(blockFn, in[0]).mul(in[1]));
        Grads plain = run(x, () -> Unary.square(block(block(x).mul(scale))).sum());
        Grads ckpt = run(x, () -> Unary.square(Autograd.checkpoint(outer, x, scale)).sum());
        assertSameGrads(plain, ckpt);

        // the tape holds one node for the whole outer function, none of the ops inside
        Map<String, Integer> kept = Autograd.recordedOps(Unary.square(Autograd.checkpoint(outer, x, scale)).sum());
        assertEquals(Map.of("checkpoint", 1, "mul", 1, "sum", 1), kept); // square is recorded as x·x
        Map<String, Integer> full = Autograd.recordedOps(Unary.square(block(block(x).mul(scale))).sum());
        assertEquals(2, full.get("linear"));
        assertNull(full.get("checkpoint"));
    }

    @Test
    void fnRunsOnceForwardAndOnceMoreInBackward() {
        Tensor x = random(6, 2, 4).requiresGrad(true);
        int[] calls = new int[1];
        Tensor y = Autograd.checkpoint(in -> {
            calls[0]++;
            return block(in[0]);
        }, x);
        assertEquals(1, calls[0]);
        assertEquals("checkpoint", y.gradFn().name());
        y.sum().backward();
        assertEquals(2, calls[0]);
    }

    @Test
    void dropoutReplaysWhenFnSeedsItsOwnGenerator() {
        Tensor x = random(7, 8, 4).requiresGrad(true);
        Function<Tensor[], Tensor> dropped = in -> F.dropout(block(in[0]), 0.5f, new SplittableRandom(42));
        Grads plain = run(x, () -> Unary.square(dropped.apply(new Tensor[] {x})).sum());
        Grads ckpt = run(x, () -> Unary.square(Autograd.checkpoint(dropped, x)).sum());
        assertSameGrads(plain, ckpt);
    }

    @Test
    void aFunctionThatChangesBetweenCallsIsReported() {
        Tensor x = random(8, 2, 4).requiresGrad(true);
        int[] calls = new int[1];
        Tensor y = Autograd.checkpoint(in -> ++calls[0] == 1 ? in[0].mul(2f) : in[0].sum(), x);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(e.getMessage().contains("returned shape [] when recomputed in backward but [2, 4] in the forward"),
                e.getMessage());
    }

    @Test
    void returningAnInputLeavesThatInputsGraphAlone() {
        Tensor x = random(9, 3).requiresGrad(true);
        Tensor y = x.mul(2f);
        GradFn mul = y.gradFn();
        Tensor z = Autograd.checkpoint(in -> in[0], y);
        assertSame(mul, y.gradFn());
        z.mul(3f).sum().backward();
        assertArrayEquals(new float[] {6, 6, 6}, x.grad().toFloatArray());
    }

    @Test
    void aParameterReadInsideAndOutsideGetsBothUses() {
        Tensor x = random(13, 2, 4).requiresGrad(true);
        Grads plain = run(x, () -> Unary.square(block(x)).sum().add(F.linear(x, w, b).sum()));
        Grads ckpt = run(x, () -> Unary.square(Autograd.checkpoint(blockFn, x)).sum().add(F.linear(x, w, b).sum()));
        assertSameGrads(plain, ckpt);
    }

    @Test
    void aComputedTensorReadWithoutPassingItIsReported() {
        Tensor x = random(14, 2, 4).requiresGrad(true);
        Tensor hidden = x.mul(2f); // computed, requires grad, captured by fn instead of passed
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Autograd.checkpoint(in -> block(in[0]).mul(hidden), x));
        assertTrue(e.getMessage().contains("read a tensor of shape [2, 4] computed outside it (by mul_scalar) that requires grad,"
                + " without taking it as an input"), e.getMessage());
        // passed as an input, the same function is fine: the gradients are the same sums, but x's three
        // uses (two inside, one through the derived input) are added in another order, so only to rounding
        Grads plain = run(x, () -> block(x).mul(x.mul(2f)).sum());
        Grads ckpt = run(x, () -> Autograd.checkpoint(in -> block(in[0]).mul(in[1]), x, x.mul(2f)).sum());
        assertEquals(plain.loss(), ckpt.loss());
        assertArrayEquals(plain.x(), ckpt.x(), 1e-6f);
        assertArrayEquals(plain.w(), ckpt.w());
        assertArrayEquals(plain.b(), ckpt.b());
    }

    @Test
    void nullInputsArePassedThrough() {
        Tensor x = random(15, 2, 4).requiresGrad(true);
        Grads plain = run(x, () -> Unary.square(block(x)).sum());
        Grads ckpt = run(x, () -> Unary.square(Autograd.checkpoint(in -> {
            assertNull(in[1]);
            return block(in[0]);
        }, x, null)).sum());
        assertSameGrads(plain, ckpt);
    }

    @Test
    void nothingIsRecordedWithoutGradOrUnderNoGrad() {
        Tensor c = random(10, 2, 4);
        Tensor frozen = Autograd.checkpoint(in -> in[0].mul(in[0]), c);
        assertNull(frozen.gradFn());
        assertFalse(frozen.requiresGrad());

        Tensor x = random(10, 2, 4).requiresGrad(true);
        try (var g = Autograd.noGrad()) {
            Tensor y = Autograd.checkpoint(blockFn, x);
            assertNull(y.gradFn());
            assertArrayEquals(block(x).toFloatArray(), y.toFloatArray());
        }
    }

    @Test
    void enableGradRecordsInsideNoGradAndScopesRestoreTheOuterMode() {
        Tensor x = random(11, 3).requiresGrad(true);
        try (var off = Autograd.noGrad()) {
            try (var on = Autograd.enableGrad()) {
                assertTrue(Autograd.isGradEnabled());
                assertNotNull(x.mul(x).gradFn());
                try (var offAgain = Autograd.noGrad()) {
                    assertNull(x.mul(x).gradFn());
                }
                assertNotNull(x.mul(x).gradFn());
            }
            assertFalse(Autograd.isGradEnabled());
            assertNull(x.mul(x).gradFn());
        }
        assertTrue(Autograd.isGradEnabled());
    }

    @Test
    void backwardRunsABackwardFromInsideItsOwnSweep() {
        // the outer sweep holds grad off while the inner one builds and walks a graph of its own
        Tensor x = random(12, 3).requiresGrad(true);
        Tensor p = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor y = Autograd.record(x.detach().mul(2f), "outer", new Tensor[] {x}, g -> {
            assertFalse(Autograd.isGradEnabled());
            try (var on = Autograd.enableGrad()) {
                p.mul(p).sum().backward(); // d/dp Σp² = 2p, accumulated into the leaf
            }
            assertFalse(Autograd.isGradEnabled());
            return new Tensor[] {g.mul(2f)};
        });
        y.sum().backward();
        assertArrayEquals(new float[] {2, 4, 6}, p.grad().toFloatArray());
        assertArrayEquals(new float[] {2, 2, 2}, x.grad().toFloatArray());
        assertTrue(Autograd.isGradEnabled());
    }
}
