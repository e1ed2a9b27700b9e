package sdj.train.optim;

import java.util.List;
import java.util.Map;
import sdj.nn.Parameter;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * accelerate's {@code --mixed_precision no|fp16|bf16} for a model on the GPU: the weights and activations in
 * fp16/bf16, the trainable parameters with fp32 master weights that the optimizer updates, and for fp16 a
 * {@link DynamicLossScaler} (bf16 has fp32's exponent range and needs none). The CPU computes in fp32 only.
 */
public enum MixedPrecision {
    NO("no", DType.F32),
    FP16("fp16", DType.F16),
    BF16("bf16", DType.BF16);

    private final String flag;
    private final DType dtype;

    MixedPrecision(String flag, DType dtype) {
        this.flag = flag;
        this.dtype = dtype;
    }

    /** "no", "fp16" or "bf16" (accelerate's choices); anything else is one sentence. */
    public static MixedPrecision parse(String value) {
        for (MixedPrecision m : values()) {
            if (m.flag.equals(value)) {
                return m;
            }
        }
        throw new IllegalArgumentException("mixedPrecision '" + value + "' is unknown; use \"no\" (fp32), \"fp16\" or"
                + " \"bf16\".");
    }

    /** The name accelerate gives it. */
    public String flag() {
        return flag;
    }

    /** The dtype the model's weights and activations are stored in. */
    public DType dtype() {
        return dtype;
    }

    /** A fresh scaler with torch's defaults for fp16; null for no and bf16. */
    public DynamicLossScaler newScaler() {
        return this == FP16 ? new DynamicLossScaler() : null;
    }

    /**
     * Gives every fp16/bf16 parameter of {@code params} its fp32 master weights from the state dict the model was
     * built from (the exact values, not the rounded ones); fp32 parameters are their own masters.
     */
    public static void startMasters(List<Parameter> params, Map<String, Tensor> stateDict) {
        for (Parameter p : params) {
            Tensor exact = stateDict.get(p.name());
            if (p.tensor().dtype() != DType.F32 && exact != null) {
                p.startMasterFrom(exact);
            }
        }
    }
}
