package sdj.tensor;

/** Storage element types. CPU math is always fp32; other float types are converted on read. */
public enum DType {
    F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    public final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public boolean isFloating() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** Parses the short names used on the command line and in file headers (f16, fp16, bf16, F32...). */
    public static DType parse(String name) {
        return switch (name.toLowerCase()) {
            case "f32", "fp32", "float32", "float" -> F32;
            case "f16", "fp16", "float16", "half" -> F16;
            case "bf16", "bfloat16" -> BF16;
            case "f64", "fp64", "float64", "double" -> F64;
            case "i64", "int64", "long" -> I64;
            case "i32", "int32", "int" -> I32;
            case "i16", "int16", "short" -> I16;
            case "i8", "int8" -> I8;
            case "u8", "uint8", "byte" -> U8;
            case "bool" -> BOOL;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "' (use f32, f16 or bf16)");
        };
    }

    /**
     * The storage precision of {@code --precision fp16|bf16|fp32}: F32, F16 or BF16 (arithmetic and
     * accumulation are fp32 in every case; weights are converted once, when they are uploaded).
     */
    public static DType parsePrecision(String name) {
        return switch (name.toLowerCase()) {
            case "fp32", "f32", "float32" -> F32;
            case "fp16", "f16", "float16", "half" -> F16;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown precision '" + name + "' (use fp16, bf16 or fp32)");
        };
    }

    /** The kernels' name suffix of a floating dtype (f32, f16, bf16). */
    public String suffix() {
        return switch (this) {
            case F32 -> "f32";
            case F16 -> "f16";
            case BF16 -> "bf16";
            default -> throw new IllegalArgumentException("CUDA tensors are f32, f16 or bf16, not " + this);
        };
    }
}
