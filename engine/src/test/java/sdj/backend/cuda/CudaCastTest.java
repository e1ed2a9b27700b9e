package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.ops.Cast;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * {@link Cast} on the tape: the forward is the conversion, and the backward of a conversion (whose Jacobian is the
 * identity) hands the output gradient back rounded to the input's dtype; the finite difference of
 * f(x) = Σ w·float(x) is w itself, so the gradient must be w as fp16/bf16 rounds it.
 */
class CudaCastTest {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void theGradientOfAHalfToFloatCastIsTheOutputGradientInTheInputsDtype(DType half) {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        float[] xs = {0.1f, -2.5f, 1000.25f, 3e-5f};
        float[] ws = {1.5f, -0.3f, 7e-4f, 70000f}; // 70000 is above fp16's 65504: its gradient becomes inf there
        Tensor x = Tensor.of(xs.clone(), 4).to(Device.CUDA, half).requiresGrad(true);
        Tensor y = Cast.to(x, DType.F32);
        assertEquals(DType.F32, y.dtype());
        assertArrayEquals(rounded(xs, half), y.cpu().floats(), 0f, "the forward is the conversion");
        Tensor loss = y.mul(Tensor.of(ws.clone(), 4).to(Device.CUDA, DType.F32)).sum();
        assertEquals(1, Autograd.recordedOps(loss).get("cast"), "recorded once");
        loss.backward();
        assertEquals(half, x.grad().dtype());
        assertArrayEquals(rounded(ws, half), x.grad().cpu().to(DType.F32).floats(), 0f);
        if (half == DType.F16) {
            assertEquals(Float.POSITIVE_INFINITY, x.grad().cpu().to(DType.F32).floats()[3]); // what loss scaling watches
        }
        assertSame(y, Cast.to(y, DType.F32), "a cast to the tensor's own dtype is the tensor");
    }

    private static float[] rounded(float[] v, DType dtype) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = dtype == DType.F16 ? Float.float16ToFloat(Float.floatToFloat16(v[i]))
                    : Float.intBitsToFloat((Storage.floatToBf16(v[i]) & 0xffff) << 16);
        }
        return out;
    }
}
