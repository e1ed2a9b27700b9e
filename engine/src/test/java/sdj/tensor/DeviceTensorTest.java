package sdj.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.backend.cuda.CudaException;
import sdj.nn.ParameterStore;
import sdj.ops.Binary;
import sdj.ops.Conv;
import sdj.ops.F;
import sdj.ops.MatMul;

/**
 * The device notion without a GPU: a tensor over a stand-in device buffer is a "cuda" tensor as far
 * as every check before a kernel launch goes, so the routing, the mixed-device errors and the host-read
 * errors are tested here for real. (Kernels themselves: sdj.backend.cuda tests, on a GPU machine.)
 */
class DeviceTensorTest {
    /** Claims to be CUDA memory; any attempt to launch a kernel on it would fail, which no test does. */
    private record FakeCudaBuffer(DType dtype, long elements) implements DeviceBuffer {
        @Override
        public Device device() {
            return Device.CUDA;
        }
    }

    private static Tensor fakeCuda(int... shape) {
        return new Tensor(Storage.onDevice(new FakeCudaBuffer(DType.F16, Shape.numel(shape))), shape,
                Shape.contiguousStrides(shape), 0);
    }

    @Test
    void hostTensorsAreOnTheCpuAndMovingThemThereIsFree() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        assertEquals(Device.CPU, t.device());
        assertFalse(t.isCuda());
        assertSame(t, t.to(Device.CPU));
        assertSame(t, t.cpu());
        assertSame(t, t.to(Device.CPU, DType.F32));
        Tensor half = t.to(Device.CPU, DType.F16);
        assertEquals(DType.F16, half.dtype());
        assertArrayEquals(new float[] {1, 2, 3, 4}, half.toFloatArray());
    }

    @Test
    void viewsOfADeviceTensorStayOnTheDevice() {
        Tensor x = fakeCuda(2, 3, 4);
        assertEquals(Device.CUDA, x.device());
        Tensor p = x.permute(2, 0, 1);
        assertTrue(p.isCuda());
        assertArrayEquals(new int[] {4, 2, 3}, p.shape());
        assertTrue(x.narrow(1, 1, 2).isCuda());
        assertTrue(x.view(6, 4).isCuda());
        assertEquals(DType.F16, x.unsqueeze(0).dtype());
    }

    @Test
    void readingDeviceElementsFromJavaSaysToCopyToTheHostFirst() {
        Tensor x = fakeCuda(2, 2);
        Tensor one = fakeCuda(1);
        for (Runnable read : List.<Runnable>of(x::floats, x::toFloatArray, x::toLongArray, () -> x.get(0, 0), one::item)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, read::run);
            assertTrue(e.getMessage().contains("lives on cuda") && e.getMessage().contains("tensor.cpu()"),
                    e.getMessage());
        }
    }

    @Test
    void mixingDevicesNamesTheOpAndBothDevices() {
        Tensor cpu = Tensor.ones(2, 2);
        Tensor gpu = fakeCuda(2, 2);
        IllegalArgumentException add = assertThrows(IllegalArgumentException.class, () -> Binary.add(cpu, gpu));
        assertEquals("add got tensors on cpu and cuda; move them to one device first (tensor.to(Device.CUDA) or"
                + " tensor.cpu())", add.getMessage());
        IllegalArgumentException mm = assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(gpu, cpu));
        assertTrue(mm.getMessage().startsWith("matmul got tensors on cpu and cuda"), mm.getMessage());
        Tensor w = Tensor.ones(3, 2);
        IllegalArgumentException lin = assertThrows(IllegalArgumentException.class, () -> F.linear(gpu, w, null));
        assertTrue(lin.getMessage().startsWith("linear got tensors on cpu and cuda"), lin.getMessage());
        Tensor img = fakeCuda(1, 2, 4, 4);
        IllegalArgumentException conv = assertThrows(IllegalArgumentException.class,
                () -> Conv.conv2d(img, Tensor.ones(2, 2, 3, 3), Tensor.zeros(2), 1, 1));
        assertTrue(conv.getMessage().startsWith("conv2d got tensors on cpu and cuda"), conv.getMessage());
        IllegalArgumentException cat = assertThrows(IllegalArgumentException.class, () -> F.cat(List.of(cpu, gpu), 0));
        assertTrue(cat.getMessage().startsWith("cat got tensors on cpu and cuda"), cat.getMessage());
    }

    @Test
    void gradientsDoNotChangeTheMixedDeviceCheck() {
        // GPU ops record gradients now (CudaAutogradTest); a leaf that wants them still cannot mix devices.
        Tensor gpu = fakeCuda(2, 2);
        Tensor leaf = Tensor.ones(2, 2).requiresGrad(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Binary.mul(leaf, gpu));
        assertTrue(e.getMessage().startsWith("mul got tensors on cpu and cuda"), e.getMessage());
    }

    @Test
    void deviceNamesParseAsOnTheCommandLine() {
        assertEquals(Device.CUDA, Device.parse("cuda"));
        assertEquals(Device.CUDA, Device.parse("GPU"));
        assertEquals(Device.CPU, Device.parse("cpu"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu"));
        assertEquals("unknown device 'tpu' (use cpu or cuda)", e.getMessage());
    }

    @Test
    void cpuParametersStayFp32() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParameterStore.random(1).placedOn(Device.CPU, DType.F16));
        assertTrue(e.getMessage().startsWith("CPU parameters are fp32"), e.getMessage());
    }

    @Test
    void uploadingWithoutAGpuFailsWithTheProbeReason() {
        assumeFalse(Cuda.available(), "a GPU is present: the upload path is tested by the CUDA tests");
        CudaException e = assertThrows(CudaException.class, () -> Tensor.ones(2).cuda());
        assertEquals("CUDA backend unavailable: " + Cuda.unavailableReason(), e.getMessage());
    }
}
