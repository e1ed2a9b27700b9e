package sdj.ops;

import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import org.junit.jupiter.api.Test;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

/**
 * Gradients through views. The check's random projection weights every output element differently,
 * so a view whose backward routes a gradient to the wrong element fails it.
 */
class ViewGradTest {
    @Test
    void permuteAndTranspose() {
        GradCheck.check(in -> in[0].permute(2, 0, 1), Rand.param(1, 2, 3, 4));
        GradCheck.check(in -> in[0].transpose(0, 2), Rand.param(2, 2, 3, 4));
        GradCheck.check(in -> in[0].transpose(-1, -2).matmul(in[1]), Rand.param(3, 4, 3), Rand.param(4, 4, 2));
    }

    @Test
    void expandSumsOverBroadcastDims() {
        // forward: [2,1] -> [3,2,4] repeats each value 12 times
        Tensor x = t(shape(2, 1), 1, 2);
        double[] expected = new double[24];
        for (int i = 0; i < 24; i++) {
            expected[i] = (i / 4) % 2 + 1;
        }
        assertValues(expected, shape(3, 2, 4), x.expand(3, 2, 4), 0);
        GradCheck.check(in -> in[0].expand(3, 2, 4), Rand.param(5, 2, 1));
        GradCheck.check(in -> in[0].expand(2, -1, 3), Rand.param(6, 1, 4, 1));
    }

    @Test
    void unsqueezeSqueezeAndSelect() {
        GradCheck.check(in -> in[0].unsqueeze(1).mul(in[1]), Rand.param(7, 2, 3), Rand.param(8, 4, 1));
        GradCheck.check(in -> in[0].squeeze(1), Rand.param(9, 3, 1, 2));
        GradCheck.check(in -> in[0].select(1, 2).mul(in[0].select(0, 0).narrow(0, 0, 1)), Rand.param(10, 3, 4));
        assertValues(new double[] {3, 4}, shape(2), t(shape(2, 2), 1, 2, 3, 4).select(0, 1), 0);
    }

    @Test
    void reshapeOfNonContiguousView() {
        // transpose then reshape forces the contiguous copy path, whose gradient must undo the transpose
        Tensor x = t(shape(2, 3), 0, 1, 2, 3, 4, 5);
        assertValues(new double[] {0, 3, 1, 4, 2, 5}, shape(6), x.transpose(0, 1).reshape(6), 0);
        GradCheck.check(in -> in[0].transpose(0, 1).reshape(3, 2, 2), Rand.param(11, 4, 3));
        GradCheck.check(in -> in[0].permute(1, 0, 2).flatten(), Rand.param(12, 2, 3, 2));
        GradCheck.check(in -> in[0].view(3, 4).transpose(0, 1).contiguous().view(2, 6), Rand.param(13, 2, 6));
    }
}
