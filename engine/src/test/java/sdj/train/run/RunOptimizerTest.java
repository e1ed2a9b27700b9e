package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.optim.ParamGroup;

/** The optimizer a config names, and AdamW8bit's refusal of CUDA weights (a CUDA test, skipped without a GPU). */
class RunOptimizerTest {
    private static final TrainConfig FP32 = TrainConfig.defaults();
    private static final TrainConfig EIGHT_BIT = FP32.with(Map.of("use8bitAdam", true));

    @Test
    void use8bitAdamPicksAdamw8bit() {
        List<ParamGroup> groups = List.of(new ParamGroup(List.of(param(Device.CPU, DType.F32)), 1e-3, 0));
        assertEquals("adamw", RunOptimizer.open(FP32, groups).name());
        assertEquals("adamw8bit", RunOptimizer.open(EIGHT_BIT, groups).name());
    }

    @Test
    void adamw8bitRefusesCudaWeightsInOneSentenceBeforeTraining() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        List<ParamGroup> cuda = List.of(new ParamGroup(List.of(param(Device.CUDA, DType.F16)), 1e-3, 0));
        assertEquals("adamw", RunOptimizer.open(FP32, cuda).name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunOptimizer.open(EIGHT_BIT, cuda));
        assertEquals("use8bitAdam (adamw8bit) runs on the CPU with fp32 weights only, but 'w' is F16 on CUDA; train on"
                + " the CPU or leave use8bitAdam off (AdamW's fp32 moments run on CUDA).", e.getMessage());
    }

    private static Parameter param(Device device, DType dtype) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(new float[] {1, 2}, 2));
        Parameter p = ParameterStore.fromStateDict(sd, "test").placedOn(device, dtype).root()
                .param("w", ParameterStore.Init.ZEROS, 2);
        p.trainable(true);
        return p;
    }
}
