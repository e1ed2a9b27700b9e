package sdj.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import java.util.List;
import org.junit.jupiter.api.Test;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class JoinTest {
    private static final Tensor A = t(shape(2, 2), 1, 2, 3, 4);
    private static final Tensor B = t(shape(2, 1), 5, 6);

    @Test
    void catAlongLastAndFirstDim() {
        assertValues(new double[] {1, 2, 5, 3, 4, 6}, shape(2, 3), F.cat(List.of(A, B), 1), 0);
        assertValues(new double[] {1, 2, 3, 4, 1, 2, 3, 4}, shape(4, 2), F.cat(List.of(A, A), 0), 0);
        assertValues(new double[] {2, 1, 4, 3}, shape(2, 2), F.cat(List.of(A.narrow(1, 1, 1), A.narrow(1, 0, 1)), -1),
                0);
        assertThrows(IllegalArgumentException.class, () -> F.cat(List.of(A, B), 0));
    }

    @Test
    void chunkAndSplitAreConsecutivePieces() {
        Tensor x = t(shape(5, 1), 0, 1, 2, 3, 4);
        List<Tensor> chunks = Join.chunk(x, 2, 0); // sizes 3 and 2, as torch.chunk
        assertEquals(2, chunks.size());
        assertValues(new double[] {0, 1, 2}, shape(3, 1), chunks.get(0), 0);
        assertValues(new double[] {3, 4}, shape(2, 1), chunks.get(1), 0);
        List<Tensor> parts = Join.split(x, new int[] {1, 4}, 0);
        assertValues(new double[] {0}, shape(1, 1), parts.get(0), 0);
        assertValues(new double[] {1, 2, 3, 4}, shape(4, 1), parts.get(1), 0);
        assertThrows(IllegalArgumentException.class, () -> Join.split(x, new int[] {1, 1}, 0));
    }

    @Test
    void catGradientsSplitBackToEachPart() {
        GradCheck.check(in -> F.cat(List.of(in[0], in[1], in[2]), 1), Rand.param(1, 2, 2, 3), Rand.param(2, 2, 1, 3),
                Rand.param(3, 2, 3, 3));
        GradCheck.check(in -> F.cat(List.of(in[0], in[1]), 0), Rand.param(4, 1, 3), Rand.param(5, 2, 3));
    }

    @Test
    void chunkSplitNarrowGradients() {
        // each piece goes through a different function so a mix-up of pieces shows in the gradient
        GradCheck.check(in -> {
            List<Tensor> c = Join.chunk(in[0], 3, -1);
            return c.get(0).mul(c.get(1)).add(Unary.exp(c.get(2)));
        }, Rand.param(6, 2, 6));
        GradCheck.check(in -> {
            List<Tensor> s = Join.split(in[0], new int[] {1, 3}, 1);
            return s.get(0).mul(s.get(1).sum(1, true));
        }, Rand.param(7, 2, 4, 3));
        GradCheck.check(in -> in[0].narrow(1, 1, 2).mul(in[0].narrow(1, 0, 2)), Rand.param(8, 3, 4, 2));
        GradCheck.check(in -> in[0].slice(0, 1, 3).mul(2f), Rand.param(9, 4, 2));
    }
}
