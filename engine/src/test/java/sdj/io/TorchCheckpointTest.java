package sdj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * Loads the shared sd-tiny checkpoints. Expected facts were read off the files with Python's stdlib
 * (zipfile + a stub Unpickler), and fp16 values are checked against the independent fp32 file.
 */
class TorchCheckpointTest {
    static final String POSITION_IDS = "cond_stage_model.transformer.text_model.embeddings.position_ids";
    static TorchCheckpoint fp32;
    static TorchCheckpoint fp16;

    @BeforeAll
    static void open() throws Exception {
        fp32 = TorchCheckpoint.open(TestData.sdTiny("model.ckpt"));
        fp16 = TorchCheckpoint.open(TestData.sdTiny("model-fp16.ckpt"));
    }

    @Test
    void rootHoldsStateDictAndGlobalStep() {
        Map<?, ?> root = (Map<?, ?>) fp32.root();
        assertEquals(List.of("state_dict", "global_step"), List.copyOf(root.keySet()));
        assertEquals(470000L, root.get("global_step"));
        assertEquals("model", fp32.archiveName());
        assertEquals("model-fp16", fp16.archiveName());
    }

    @Test
    void stateDictHasEveryTensorWithItsShape() throws Exception {
        LinkedHashMap<String, Tensor> sd = fp32.stateDict();
        assertEquals(983, sd.size());
        assertEquals("betas", sd.keySet().iterator().next());
        Tensor w = sd.get("model.diffusion_model.out.2.weight");
        assertArrayEquals(new int[] {4, 32, 3, 3}, w.shape());
        assertArrayEquals(new int[] {288, 9, 3, 1}, w.strides());
        assertEquals(DType.F32, w.dtype());
        // First four bytes of model/data/696 are c5 f9 55 bc.
        assertEquals(Float.intBitsToFloat(0xbc55f9c5), w.get(0, 0, 0, 0));
        long f32 = sd.values().stream().filter(t -> t.dtype() == DType.F32).count();
        assertEquals(982, f32);
    }

    @Test
    void tensorsAreViewsOfTheMappedFile() throws Exception {
        Tensor w = fp32.stateDict().get("model.diffusion_model.out.2.weight");
        assertNull(w.storage().heapFloats());
        assertTrue(w.storage().segment().isMapped(), "storage should be a slice of the memory-mapped file");
        assertTrue(w.storage().segment().isReadOnly());
    }

    @Test
    void positionIdsAreInt64Range() throws Exception {
        for (TorchCheckpoint c : List.of(fp32, fp16)) {
            Tensor p = c.stateDict().get(POSITION_IDS);
            assertEquals(DType.I64, p.dtype());
            assertArrayEquals(new int[] {1, 77}, p.shape());
            long[] v = p.toLongArray();
            for (int i = 0; i < 77; i++) {
                assertEquals(i, v[i]);
            }
        }
    }

    @Test
    void betasFollowTheLinearLdmSchedule() throws Exception {
        float[] betas = fp32.stateDict().get("betas").toFloatArray();
        assertEquals(1000, betas.length);
        double a = Math.sqrt(0.00085);
        double b = Math.sqrt(0.012);
        for (int i = 0; i < 1000; i++) {
            double s = a + (b - a) * i / 999;
            assertEquals(s * s, betas[i], 1e-6 * s * s, "beta " + i);
        }
    }

    @Test
    void halfCheckpointIsTheFloatOneRoundedToHalf() throws Exception {
        LinkedHashMap<String, Tensor> a = fp32.stateDict();
        LinkedHashMap<String, Tensor> h = fp16.stateDict();
        assertEquals(List.copyOf(a.keySet()), List.copyOf(h.keySet()));
        long compared = 0;
        for (Map.Entry<String, Tensor> e : a.entrySet()) {
            Tensor t32 = e.getValue();
            Tensor t16 = h.get(e.getKey());
            assertArrayEquals(t32.shape(), t16.shape(), e.getKey());
            if (t32.dtype() == DType.I64) {
                assertEquals(DType.I64, t16.dtype());
                assertArrayEquals(t32.toLongArray(), t16.toLongArray());
                continue;
            }
            assertEquals(DType.F16, t16.dtype(), e.getKey());
            float[] x = t32.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                short want = Float.floatToFloat16(x[i]);
                short got = t16.storage().segment().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, (t16.offset() + i) * 2L);
                if (want != got) {
                    throw new AssertionError(e.getKey() + "[" + i + "]: fp32 " + x[i] + " rounds to half bits "
                            + Integer.toHexString(want & 0xffff) + " but the file holds " + Integer.toHexString(got & 0xffff));
                }
            }
            compared += x.length;
        }
        assertTrue(compared > 1_000_000, "compared " + compared + " values");
    }

    @Test
    void stateDictsLoadPicksTheStateDict() throws Exception {
        LinkedHashMap<String, Tensor> sd = StateDicts.load(TestData.sdTiny("model-fp16.ckpt"));
        assertEquals(983, sd.size());
        assertEquals(DType.F16, sd.get("betas").dtype());
    }
}
