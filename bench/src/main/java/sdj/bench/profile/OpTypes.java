package sdj.bench.profile;

import java.util.Map;

/**
 * The op types a profile groups by. Forward ops are named by the backend primitive that ran them; the
 * ops of a backward by the recorded op whose backward they are ({@code "conv backward"}), from the
 * name autograd recorded it under.
 */
final class OpTypes {
    static final String CONV = "conv";
    static final String LINEAR = "linear";
    static final String MATMUL = "matmul";
    static final String ATTENTION = "attention";
    static final String GROUP_NORM = "group norm";
    static final String GROUP_NORM_SILU = "group norm+SiLU";
    static final String LAYER_NORM = "layer norm";
    static final String SOFTMAX = "softmax";
    static final String GEGLU = "GEGLU";
    static final String ELEMENTWISE = "elementwise";
    static final String REDUCE = "reduce";
    static final String COPY = "copy";
    static final String FILL = "fill";
    static final String EMBEDDING = "embedding";
    static final String UPSAMPLE = "upsample";
    static final String OPTIMIZER = "optimizer";
    /** The step's time outside every backend op: autograd bookkeeping, Java glue, the GC. */
    static final String OUTSIDE_OPS = "outside ops";

    /** The types whose FLOPs are multiply-adds of products (what the bench's GFLOP figures count). */
    static final java.util.Set<String> PRODUCTS = java.util.Set.of(CONV, LINEAR, MATMUL, ATTENTION);

    private static final Map<String, String> RECORDED = Map.ofEntries(
            Map.entry("conv2d", CONV), Map.entry("linear", LINEAR), Map.entry("matmul", MATMUL),
            Map.entry("attention", ATTENTION), Map.entry("group_norm", GROUP_NORM),
            Map.entry("group_norm_silu", GROUP_NORM_SILU), Map.entry("layer_norm", LAYER_NORM),
            Map.entry("softmax", SOFTMAX), Map.entry("geglu", GEGLU), Map.entry("embedding", EMBEDDING),
            Map.entry("upsample_nearest2x", UPSAMPLE), Map.entry("sum", REDUCE), Map.entry("sum_dims", REDUCE),
            Map.entry("mean", REDUCE), Map.entry("add", ELEMENTWISE), Map.entry("sub", ELEMENTWISE),
            Map.entry("mul", ELEMENTWISE), Map.entry("div", ELEMENTWISE), Map.entry("neg", ELEMENTWISE),
            Map.entry("add_scalar", ELEMENTWISE), Map.entry("mul_scalar", ELEMENTWISE), Map.entry("cat", COPY),
            Map.entry("contiguous", COPY), Map.entry("view", COPY), Map.entry("permute", COPY),
            Map.entry("narrow", COPY), Map.entry("expand", COPY), Map.entry("unsqueeze", COPY),
            Map.entry("squeeze", COPY));

    private OpTypes() {
    }

    /** The type of an op autograd recorded under this name; unary functions are elementwise. */
    static String ofRecorded(String recordedName) {
        String t = RECORDED.get(recordedName);
        if (t != null) {
            return t;
        }
        for (sdj.tensor.UnaryOp op : sdj.tensor.UnaryOp.values()) {
            if (op.label.equals(recordedName)) {
                return ELEMENTWISE;
            }
        }
        return recordedName;
    }

    static String backwardOf(String recordedName) {
        return ofRecorded(recordedName) + " backward";
    }
}
