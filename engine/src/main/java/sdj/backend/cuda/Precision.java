package sdj.backend.cuda;

import sdj.tensor.DType;

/**
 * The storage precision of device tensors, from {@code --precision fp16|bf16|fp32}. Arithmetic and
 * accumulation are fp32 in every case; weights are converted once, when they are uploaded.
 */
public enum Precision {
    FP32(DType.F32), FP16(DType.F16), BF16(DType.BF16);

    public final DType dtype;

    Precision(DType dtype) {
        this.dtype = dtype;
    }

    public static Precision parse(String name) {
        return switch (name.toLowerCase()) {
            case "fp32", "f32", "float32" -> FP32;
            case "fp16", "f16", "float16", "half" -> FP16;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown precision '" + name + "' (use fp16, bf16 or fp32)");
        };
    }

    /** The kernel name suffix for a device dtype (f32, f16, bf16). */
    static String suffix(DType dtype) {
        return switch (dtype) {
            case F32 -> "f32";
            case F16 -> "f16";
            case BF16 -> "bf16";
            default -> throw new IllegalArgumentException("CUDA tensors are f32, f16 or bf16, not " + dtype);
        };
    }
}
