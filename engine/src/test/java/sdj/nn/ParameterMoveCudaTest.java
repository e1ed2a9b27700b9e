package sdj.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static sdj.nn.HandMath.assertClose;
import static sdj.nn.HandMath.d;
import static sdj.nn.HandMath.randomTensor;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Moving a built store to the GPU and back in place (on the host emulator where there is no GPU): the
 * same handles, the layers compute the same outputs and gradients there, trainable marks follow the
 * tensors, and merge/unmerge work on device weights. fp32 on the device is held to 1e-4 of the
 * output's scale (as the CUDA parity tests); round trips in fp32 are bit-exact.
 */
class ParameterMoveCudaTest {
    private ParameterStore store;
    private Linear fc;
    private Conv2d conv;

    @BeforeEach
    void build() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("fc.weight", randomTensor(1, 3, 5));
        sd.put("fc.bias", randomTensor(2, 3));
        sd.put("fc.lora_up.weight", randomTensor(3, 3, 2)); // non-zero so the adapter branch counts
        sd.put("conv.weight", randomTensor(4, 4, 2, 3, 3));
        sd.put("conv.bias", randomTensor(5, 4));
        sd.put("conv.lora_up.weight", randomTensor(6, 4, 2, 1, 1));
        store = ParameterStore.fromStateDict(sd, "test").withAdapters(AdapterRule.lora("^(fc|conv)$", 2).withAlpha(1));
        fc = store.root().linear("fc", 5, 3, true);
        conv = store.root().conv2d("conv", 2, 4, 3, 2, 1);
        store.setTrainable(LoraAdapter::isAdapterWeight);
    }

    private Tensor[] forward(Tensor x, Tensor image, Device device) {
        return new Tensor[] {fc.forward(x.to(device, DType.F32)), conv.forward(image.to(device, DType.F32))};
    }

    @Test
    void handlesSurviveTheMoveAndTheLayersComputeTheSameOnTheGpu() {
        Tensor x = randomTensor(7, 4, 5);
        Tensor image = randomTensor(8, 1, 2, 5, 5);
        Tensor[] cpu = forward(x, image, Device.CPU);
        cpu[0].sum().add(cpu[1].sum()).backward();
        float[] downGrad = fc.adapter().down().tensor().grad().toFloatArray();
        float[] convUpGrad = conv.adapter().up().tensor().grad().toFloatArray();
        float[] weight = fc.weight().tensor().toFloatArray();
        Map<String, Parameter> handles = Map.copyOf(store.handles());

        store.moveTo(Device.CUDA, DType.F32);
        assertEquals(Device.CUDA, store.device());
        for (Map.Entry<String, Parameter> e : handles.entrySet()) {
            assertSame(e.getValue(), store.handles().get(e.getKey()), e.getKey() + " keeps its handle");
            assertTrue(e.getValue().tensor().isCuda(), e.getKey() + " is on the GPU");
            assertEquals(e.getValue().trainable(), e.getValue().tensor().requiresGrad(), e.getKey() + " requiresGrad");
        }
        assertTrue(fc.adapter().down().tensor().requiresGrad());
        Tensor[] gpu = forward(x, image, Device.CUDA);
        assertClose(d(cpu[0]), gpu[0].to(Device.CPU, DType.F32), 1e-4, "linear + LoRA on the GPU");
        assertClose(d(cpu[1]), gpu[1].to(Device.CPU, DType.F32), 1e-4, "stride-2 conv + LoCon on the GPU");
        gpu[0].sum().add(gpu[1].sum()).backward();
        Tensor gpuDownGrad = fc.adapter().down().tensor().grad();
        assertNotNull(gpuDownGrad, "the moved trainable tensor receives its gradient");
        assertClose(toDouble(downGrad), gpuDownGrad.to(Device.CPU, DType.F32), 1e-4, "d loss / d lora_down on the GPU");
        assertClose(toDouble(convUpGrad), conv.adapter().up().tensor().grad().to(Device.CPU, DType.F32), 1e-4,
                "d loss / d conv lora_up on the GPU");

        store.moveTo(Device.CPU, DType.F32);
        assertFalse(fc.weight().tensor().isCuda());
        assertArrayEquals(weight, fc.weight().tensor().toFloatArray(), "an fp32 round trip is exact");
        assertTrue(fc.adapter().up().tensor().requiresGrad(), "still trainable after coming back");
    }

    @Test
    void halfPrecisionMoveRoundsTheWeightsAndMergeWorksOnTheDevice() {
        Tensor x = randomTensor(9, 4, 5);
        float[] weight = fc.weight().tensor().toFloatArray();
        store.moveTo(Device.CUDA, DType.F16);
        assertEquals(DType.F16, fc.weight().tensor().dtype());
        float[] rounded = new float[weight.length];
        for (int i = 0; i < weight.length; i++) {
            rounded[i] = Float.float16ToFloat(Float.floatToFloat16(weight[i]));
        }
        assertArrayEquals(rounded, fc.weight().tensor().to(Device.CPU, DType.F32).toFloatArray(), "fp16 weights");

        Tensor xh = x.to(Device.CUDA, DType.F16);
        float[] adapted = fc.forward(xh).to(Device.CPU, DType.F32).toFloatArray();
        Tensor beforeMerge = fc.weight().tensor();
        fc.adapter().merge();
        assertEquals(DType.F16, fc.weight().tensor().dtype(), "the merged weight keeps the storage dtype");
        assertClose(toDouble(adapted), fc.forward(xh).to(Device.CPU, DType.F32), 2e-2, "merged forward in fp16");
        fc.adapter().unmerge();
        assertSame(beforeMerge, fc.weight().tensor(), "unmerge puts back the very tensor");

        store.moveTo(Device.CPU, DType.F32);
        assertArrayEquals(rounded, fc.weight().tensor().toFloatArray(), "back on the CPU as fp32");
    }

    private static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
