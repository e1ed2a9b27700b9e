package sdj.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.nn.HandMath.randomTensor;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/** Get-or-init, trainable marks, state-dict export and the handle bookkeeping of {@link ParameterStore}. */
class ParameterStoreTest {

    @Test
    void getOrInitGivesEachNameTheSameValuesWhateverTheCreationOrder() {
        Params a = ParameterStore.random(1).root();
        Parameter ax = a.paramOrInit("x.weight", ParameterStore.Init.FAN_IN, 42, 3, 4);
        Parameter ay = a.paramOrInit("y.weight", ParameterStore.Init.FAN_IN, 42, 3, 4);
        Params b = ParameterStore.fromStateDict(Map.of(), "an empty state dict").root();
        Parameter by = b.paramOrInit("y.weight", ParameterStore.Init.FAN_IN, 42, 3, 4);
        Parameter bx = b.paramOrInit("x.weight", ParameterStore.Init.FAN_IN, 42, 3, 4);
        assertArrayEquals(ax.tensor().toFloatArray(), bx.tensor().toFloatArray(), "x.weight, created first or second");
        assertArrayEquals(ay.tensor().toFloatArray(), by.tensor().toFloatArray(), "y.weight, created first or second");
        assertFalse(java.util.Arrays.equals(ax.tensor().toFloatArray(), ay.tensor().toFloatArray()),
                "different names, different values");
        Parameter other = ParameterStore.random(1).root().paramOrInit("x.weight", ParameterStore.Init.FAN_IN, 43, 3, 4);
        assertFalse(java.util.Arrays.equals(ax.tensor().toFloatArray(), other.tensor().toFloatArray()),
                "different seeds, different values");
    }

    @Test
    void getOrInitDoesNotShiftTheRandomStoresOwnStream() {
        Params plain = ParameterStore.random(7).root();
        Parameter p1 = plain.param("a.weight", 2, 3);
        Parameter p2 = plain.param("b.weight", 2, 3);
        Params mixed = ParameterStore.random(7).root();
        Parameter m1 = mixed.param("a.weight", 2, 3);
        mixed.paramOrInit("a.lora_down.weight", ParameterStore.Init.FAN_IN, 0, 1, 3);
        Parameter m2 = mixed.param("b.weight", 2, 3);
        assertArrayEquals(p1.tensor().toFloatArray(), m1.tensor().toFloatArray());
        assertArrayEquals(p2.tensor().toFloatArray(), m2.tensor().toFloatArray(),
                "a get-or-init parameter in between leaves the next random weight as it was");
    }

    @Test
    void aTensorPresentInTheCheckpointWinsOverTheInitialiser() {
        Tensor stored = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Params p = ParameterStore.fromStateDict(Map.of("m.extra", stored), "ckpt").root();
        Parameter got = p.sub("m").paramOrInit("extra", ParameterStore.Init.ZEROS, 1, 2, 3);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, got.tensor().toFloatArray());
        Parameter made = p.sub("m").paramOrInit("missing", ParameterStore.Init.ONES, 1, 2);
        assertArrayEquals(new float[] {1, 1}, made.tensor().toFloatArray(), "absent: made by the initialiser");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParameterStore.fromStateDict(Map.of("m.extra", stored), "ckpt").root().paramOrInit("m.extra",
                        ParameterStore.Init.ZEROS, 1, 3, 2));
        assertEquals("ckpt: tensor 'm.extra' has shape [2, 3] but the model expects [3, 2];"
                + " remove it from the state dict to initialise it instead", e.getMessage());
    }

    /** q, k, v (no bias) and out.0 (bias) of attn1 and attn2: a transformer block's attention layers. */
    private static ParameterStore attentionBlock() {
        ParameterStore store = ParameterStore.random(3);
        Params block = store.root().sub("blk");
        for (String attn : List.of("attn1", "attn2")) {
            Params a = block.sub(attn);
            a.linear("to_q", 4, 4, false);
            a.linear("to_k", 6, 4, false);
            a.linear("to_v", 6, 4, false);
            a.sub("to_out").linear("0", 4, 4, true);
        }
        return store;
    }

    @Test
    void setTrainableMarksExactlyTheMatchingNamesAndCountsThem() {
        ParameterStore store = attentionBlock();
        ParameterStore.TrainableCount kv = store.setTrainable(n -> n.matches(".*attn2\\.to_[kv]\\.weight"));
        assertEquals(new ParameterStore.TrainableCount(2, 2 * 4 * 6), kv);
        assertEquals("2 tensors, 48 parameters", kv.toString());
        for (Parameter p : store.handles().values()) {
            boolean expected = p.name().equals("blk.attn2.to_k.weight") || p.name().equals("blk.attn2.to_v.weight");
            assertEquals(expected, p.trainable(), p.name());
            assertEquals(expected, p.tensor().requiresGrad(), p.name() + " requiresGrad");
        }
        ParameterStore.TrainableCount attn2 = store.setTrainable(n -> n.contains("attn2."));
        assertEquals(new ParameterStore.TrainableCount(5, 16 + 24 + 24 + 16 + 4), attn2,
                "q, k, v, out.0 weight and bias");
        assertEquals(List.of("blk.attn2.to_q.weight", "blk.attn2.to_k.weight", "blk.attn2.to_v.weight",
                "blk.attn2.to_out.0.weight", "blk.attn2.to_out.0.bias"), List.copyOf(store.trainableNames()));
        assertFalse(store.handles().get("blk.attn1.to_k.weight").tensor().requiresGrad(), "a second call replaces the set");
    }

    @Test
    void stateDictExportsTheChosenSubsetInCreationOrder() {
        ParameterStore store = attentionBlock();
        Map<String, Tensor> out = store.stateDict(n -> n.endsWith("bias") || n.contains("attn1.to_k"));
        assertEquals(List.of("blk.attn1.to_k.weight", "blk.attn1.to_out.0.bias", "blk.attn2.to_out.0.bias"),
                List.copyOf(out.keySet()));
        for (Map.Entry<String, Tensor> e : out.entrySet()) {
            assertSame(store.handles().get(e.getKey()).tensor(), e.getValue(), "the live tensor of " + e.getKey());
        }
        assertEquals(List.copyOf(store.handles().keySet()), List.copyOf(store.parameters().keySet()));
        assertEquals(List.of("blk.attn1.to_q", "blk.attn1.to_k", "blk.attn1.to_v", "blk.attn1.to_out.0", "blk.attn2.to_q",
                "blk.attn2.to_k", "blk.attn2.to_v", "blk.attn2.to_out.0"), List.copyOf(store.layers().keySet()));
    }

    @Test
    void aNameCreatedTwiceIsAnError() {
        Params p = ParameterStore.random(1).root();
        p.linear("fc", 2, 2, true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.linear("fc", 2, 2, true));
        assertEquals("parameter 'fc.weight' is created twice; every module needs its own name", e.getMessage());
    }

    @Test
    void movingOnTheCpuKeepsHandlesValuesAndTrainableMarks() {
        ParameterStore store = ParameterStore.random(5).withAdapters(AdapterRule.lora("fc$", 2));
        Linear fc = store.root().linear("fc", 3, 2, true);
        store.setTrainable(LoraAdapter::isAdapterWeight);
        Map<String, Parameter> before = Map.copyOf(store.handles());
        float[] w = fc.weight().tensor().toFloatArray();
        store.moveTo(Device.CPU, DType.F32);
        for (Map.Entry<String, Parameter> e : before.entrySet()) {
            assertSame(e.getValue(), store.handles().get(e.getKey()), e.getKey());
        }
        assertSame(fc.adapter().down(), store.handles().get("fc.lora_down.weight"));
        assertArrayEquals(w, fc.weight().tensor().toFloatArray());
        assertTrue(fc.adapter().down().tensor().requiresGrad());
        assertFalse(fc.weight().tensor().requiresGrad());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.moveTo(Device.CPU, DType.F16));
        assertTrue(e.getMessage().startsWith("CPU parameters are fp32"), e.getMessage());
    }

    @Test
    void replacingAParameterKeepsItsShapeAndTrainableFlag() {
        Parameter p = ParameterStore.random(1).root().param("w", 2, 2);
        p.trainable(true);
        Tensor next = randomTensor(3, 2, 2);
        p.set(next);
        assertSame(next, p.tensor());
        assertTrue(next.requiresGrad(), "the replacement is trainable like the old tensor");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.set(Tensor.zeros(4)));
        assertEquals("parameter 'w' has shape [2, 2]; a tensor of shape [4] cannot replace it", e.getMessage());
    }
}
