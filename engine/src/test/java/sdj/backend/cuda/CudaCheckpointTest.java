package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;

import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdj.ops.F;
import sdj.ops.Unary;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Activation checkpointing on the GPU: the recomputation runs on the device and the gradients (of the
 * input and of weights the function reads) are the same bits as without, on the GPU in each leaf's dtype.
 */
class CudaCheckpointTest {
    @BeforeEach
    void gpu() {
        CudaTestSupport.opsOrSkip();
    }

    private static Tensor deviceLeaf(long seed, DType dtype, int... shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return Tensor.of(rounded(random(seed, n, 1f), dtype), shape).to(Device.CUDA, dtype).requiresGrad(true);
    }

    @Test
    void checkpointedGradientsEqualPlainOnesOnTheDevice() {
        for (DType dtype : new DType[] {DType.F32, DType.F16}) {
            Tensor x = deviceLeaf(1, dtype, 3, 8);
            Tensor w = deviceLeaf(2, dtype, 8, 8);
            Tensor b = deviceLeaf(3, dtype, 8);
            Function<Tensor[], Tensor> block = in -> {
                Tensor h = F.linear(in[0], w, b);
                return Unary.tanh(h).mul(h).add(in[0]);
            };
            Tensor[] leaves = {x, w, b};
            float[][] plain = grads(leaves, () -> Unary.square(block.apply(new Tensor[] {x})).sum().add(x.sum()));
            float[][] ckpt = grads(leaves, () -> Unary.square(Autograd.checkpoint(block, x)).sum().add(x.sum()));
            for (int i = 0; i < leaves.length; i++) {
                assertTrue(leaves[i].grad().isCuda(), dtype + " leaf " + i + ": the gradient stays on the GPU");
                assertEquals(dtype, leaves[i].grad().dtype(), dtype + " leaf " + i + ": in the leaf's dtype");
                assertArrayEquals(plain[i], ckpt[i], dtype + " leaf " + i);
            }
        }
    }

    private static float[][] grads(Tensor[] leaves, java.util.function.Supplier<Tensor> loss) {
        for (Tensor l : leaves) {
            l.zeroGrad();
        }
        Tensor y = loss.get();
        assertTrue(y.isCuda());
        y.backward();
        float[][] out = new float[leaves.length][];
        for (int i = 0; i < leaves.length; i++) {
            out[i] = leaves[i].grad().to(Device.CPU, DType.F32).toFloatArray();
        }
        return out;
    }
}
