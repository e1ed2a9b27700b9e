package sdj.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.ops.InPlace;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Mixed precision's master weights: an fp16 parameter gets an fp32 copy an optimizer can update with
 * steps too small for fp16, fp32 gradients, and the sum rounded back into the fp16 tensor.
 */
class ParameterMasterTest {
    @Test
    void anFp32ParameterIsItsOwnMaster() {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(new float[] {1, 2}, 2));
        ParameterStore store = ParameterStore.fromStateDict(sd, "test");
        Parameter w = store.root().param("w", ParameterStore.Init.ZEROS, 2);
        assertSame(w.tensor(), w.master());
    }

    @Test
    void smallStepsAccumulateInTheFp32MasterOfAnFp16Parameter() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(new float[] {1, -2, 1024}, 3));
        ParameterStore store = ParameterStore.fromStateDict(sd, "test").placedOn(Device.CUDA, DType.F16);
        Parameter w = store.root().param("w", ParameterStore.Init.ZEROS, 3);
        w.trainable(true);
        Tensor master = w.master();
        assertEquals(DType.F32, master.dtype());
        assertSame(master, w.master()); // made once
        // fp16 has 11 significant bits: 1 + 2^-12 rounds back to 1, so ten such steps are lost in fp16
        try (var g = Autograd.noGrad()) {
            for (int i = 0; i < 10; i++) {
                InPlace.add_(master, Tensor.of(new float[] {1, 1, 1}, 3).to(Device.CUDA, DType.F32), 1f / 4096);
            }
        }
        w.syncFromMaster();
        float step = 10f / 4096;
        assertArrayEquals(new float[] {1 + step, -2 + step, 1024 + step}, master.cpu().floats(), 1e-6f);
        float[] half = w.tensor().cpu().to(DType.F32).floats();
        assertArrayEquals(new float[] {half16(1 + step), half16(-2 + step), 1024}, half, 0f);
        assertNotEquals(1f, half[0]); // ten steps of 2^-12 add up to more than half an fp16 ulp at 1

        // gradients arrive in fp16 (the parameter's dtype) and are read in fp32
        w.tensor().mul(w.tensor()).sum().backward();
        assertEquals(DType.F16, w.tensor().grad().dtype());
        Tensor g32 = w.gradF32();
        assertEquals(DType.F32, g32.dtype());
        assertArrayEquals(w.tensor().grad().cpu().to(DType.F32).floats(), g32.cpu().floats(), 0f);
    }

    @Test
    void onlyAHalfParameterTakesMastersFromExactValues() {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(new float[] {1, 2}, 2));
        Parameter w = ParameterStore.fromStateDict(sd, "test").root().param("w", ParameterStore.Init.ZEROS, 2);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> w.startMasterFrom(Tensor.of(new float[] {1, 2}, 2)));
        assertEquals("parameter 'w' (F32 [2]) takes fp32 master weights only when it is fp16 or bf16, of its own"
                + " shape; got [2]", e.getMessage());
        assertSame(w.tensor(), w.master()); // still its own master
    }

    private static float half16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }
}
