package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.optim.ParamGroup;

/** The optimizer a config names, and AdamW8bit's refusal of weights it cannot update (CUDA or half precision). */
class RunOptimizerTest {
    @Test
    void use8bitAdamPicksAdamw8bitAndRefusesHalfPrecisionWeightsInOneSentence() {
        TrainConfig fp32 = TrainConfig.defaults();
        TrainConfig eightBit = fp32.with(Map.of("use8bitAdam", true));
        List<ParamGroup> groups = List.of(new ParamGroup(List.of(param(DType.F32)), 1e-3, 0));
        assertEquals("adamw", RunOptimizer.open(fp32, groups).name());
        assertEquals("adamw8bit", RunOptimizer.open(eightBit, groups).name());

        List<ParamGroup> half = List.of(new ParamGroup(List.of(param(DType.F16)), 1e-3, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunOptimizer.open(eightBit, half));
        assertEquals("use8bitAdam (adamw8bit) runs on the CPU with fp32 weights only, but 'w' is F16 on CPU; train on"
                + " the CPU or leave use8bitAdam off (AdamW's fp32 moments run on CUDA).", e.getMessage());
    }

    private static Parameter param(DType dtype) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", Tensor.of(new float[] {1, 2}, 2).to(Device.CPU, dtype));
        Parameter p = ParameterStore.fromStateDict(sd, "test").root().param("w", ParameterStore.Init.ZEROS, 2);
        p.trainable(true);
        return p;
    }
}
