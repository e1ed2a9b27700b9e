package sdj.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.StateDicts;
import sdj.ops.InPlace;
import sdj.tensor.DType;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/** fp32 checkpoint tensors as parameters: used in place when aligned, copied once when not, copied on training. */
class MappedParametersTest {
    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final float[] VALUES = {1.5f, -2.25f, 3f, 0.125f, -7f, 9.5f};

    @TempDir
    Path dir;

    /** VALUES as a [2, 3] fp32 tensor over native memory starting {@code misalignment} bytes past a 4-byte boundary. */
    private static Tensor nativeTensor(int misalignment) {
        MemorySegment block = Arena.ofAuto().allocate(4L * VALUES.length + 4, 4);
        MemorySegment slice = block.asSlice(misalignment, 4L * VALUES.length);
        for (int i = 0; i < VALUES.length; i++) {
            slice.set(LE, 4L * i, VALUES[i]);
        }
        return new Tensor(Storage.ofSegment(slice, DType.F32), new int[] {2, 3}, new int[] {3, 1}, 0);
    }

    @Test
    void anAlignedFp32SegmentIsUsedInPlaceAndAnUnalignedOneIsCopiedOnce() {
        Tensor aligned = nativeTensor(0);
        Tensor unaligned = nativeTensor(1);
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("a.weight", aligned);
        sd.put("b.weight", unaligned);
        ParameterStore store = ParameterStore.fromStateDict(sd, "test.safetensors");
        Parameter a = store.root().param("a.weight", ParameterStore.Init.FAN_IN, 2, 3);
        Parameter b = store.root().param("b.weight", ParameterStore.Init.FAN_IN, 2, 3);
        assertSame(aligned.storage(), a.tensor().storage(), "the aligned tensor is the parameter itself");
        assertNotSame(unaligned.storage(), b.tensor().storage(), "the unaligned one is copied");
        assertEquals(0, b.tensor().storage().segment().address() % 4, "to an aligned native fp32 array");
        assertArrayEquals(VALUES, b.tensor().toFloatArray());
        assertArrayEquals(VALUES, a.tensor().toFloatArray());
        assertEquals(1, store.fp32CopiesAtLoad());
    }

    @Test
    void aMappedWeightRefusesWritesUntilMarkedTrainableWhichGivesItAHeapCopy() throws Exception {
        Path file = dir.resolve("w.safetensors");
        StateDicts.save(file, Map.of("layer.weight", Tensor.of(VALUES.clone(), 2, 3)));
        ParameterStore store = ParameterStore.fromStateDict(StateDicts.load(file), file.toString());
        Parameter p = store.root().param("layer.weight", ParameterStore.Init.FAN_IN, 2, 3);
        assertNull(p.tensor().storage().heapFloats(), "read in place from the mapped file");

        Tensor ones = Tensor.full(1f, 2, 3);
        var refused = assertThrows(IllegalArgumentException.class, () -> InPlace.add_(p.tensor(), ones, 1f));
        assertTrue(refused.getMessage().contains("memory-mapped"), refused.getMessage());

        store.setTrainable(name -> true);
        assertNotNull(p.tensor().storage().heapFloats(), "trainable: a heap copy an optimizer may update");
        assertTrue(p.tensor().requiresGrad());
        assertArrayEquals(VALUES, p.tensor().toFloatArray());
        try (var g = sdj.tensor.Autograd.noGrad()) {
            InPlace.add_(p.tensor(), ones, 1f);
        }
        assertEquals(VALUES[0] + 1, p.tensor().floats()[0]);
        assertArrayEquals(VALUES, StateDicts.load(file).get("layer.weight").toFloatArray(), "the file is unchanged");
    }
}
