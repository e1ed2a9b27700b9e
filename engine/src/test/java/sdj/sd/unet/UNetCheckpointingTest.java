package sdj.sd.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.nn.ParameterStore;
import sdj.ops.F;
import sdj.sd.ModelConfigFiles;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** Gradient checkpointing of the tiny UNet: the same loss and gradients to the bit, and a smaller tape. */
class UNetCheckpointingTest {
    private static Tensor random(long seed, int... shape) {
        return sdj.ops.GradCheck.Rand.uniform(seed, shape);
    }

    /** The loss, the ops on its tape, and the gradient of x, the context and every parameter. */
    private record Step(float loss, Map<String, Integer> tape, Map<String, float[]> grads) {
    }

    @Test
    void checkpointingChangesNoBitOfLossOrGradientsAndKeepsOnlyTheBlockInputs() throws Exception {
        UNetConfig config = ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).unet();
        ParameterStore store = ParameterStore.random(5);
        UNetModel unet = new UNetModel(store.root().sub(UNetModel.PREFIX), config);
        Map<String, Tensor> trainable = new LinkedHashMap<>(store.parameters());
        trainable.values().forEach(p -> p.requiresGrad(true));
        // the context requires grad too: it is read by every cross-attention, inside the checkpoints
        trainable.put("x", random(1, 2, 4, 8, 8).requiresGrad(true));
        trainable.put("context", random(2, 2, 7, config.contextDim()).requiresGrad(true));
        Tensor target = random(3, 2, 4, 8, 8);

        Step plain = step(unet, trainable, target);
        unet.setGradientCheckpointing(true);
        Step ckpt = step(unet, trainable, target);

        assertEquals(plain.loss(), ckpt.loss());
        assertEquals(plain.grads().keySet(), ckpt.grads().keySet());
        for (String name : plain.grads().keySet()) {
            assertNotNull(plain.grads().get(name), name + " got no gradient");
            assertTrue(Arrays.equals(plain.grads().get(name), ckpt.grads().get(name)), name + " differs");
        }

        // sd-tiny: 22 ResBlocks (8 input, 2 middle, 12 output) and 16 transformer blocks, one node each
        assertEquals(22 + 16, ckpt.tape().get("checkpoint"));
        assertNull(plain.tape().get("checkpoint"));
        assertEquals(2 * 16, plain.tape().get("attention"));
        assertNull(ckpt.tape().get("attention"), "no op inside a transformer block stays on the tape");
        int plainOps = plain.tape().values().stream().mapToInt(Integer::intValue).sum();
        int ckptOps = ckpt.tape().values().stream().mapToInt(Integer::intValue).sum();
        assertTrue(ckptOps * 3 < plainOps, ckptOps + " ops kept with checkpointing, " + plainOps + " without");
    }

    private static Step step(UNetModel unet, Map<String, Tensor> trainable, Tensor target) {
        trainable.values().forEach(Tensor::zeroGrad);
        Tensor eps = unet.forward(trainable.get("x"), new float[] {10f, 700f}, trainable.get("context"));
        Tensor loss = F.mseLoss(eps, target);
        Map<String, Integer> tape = Autograd.recordedOps(loss);
        loss.backward();
        Map<String, float[]> grads = new LinkedHashMap<>();
        trainable.forEach((name, t) -> grads.put(name, t.grad() == null ? null : t.grad().toFloatArray()));
        return new Step(loss.item(), tape, grads);
    }
}
