package sdj.train.lora;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import sdj.sd.KohyaNames;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * A LoRA from two checkpoints (e.g. a DreamBooth result and its base): for each module of kohya's
 * default targets, the weight difference ΔW = tuned − base, flattened to [out, in·k·k], is truncated
 * to its best rank-R approximation by SVD ({@link TruncatedSvd}), ΔW ≈ (U_R·diag(S_R))·V_Rᵀ; up = U_R·diag(S_R),
 * down = V_Rᵀ, alpha = R (scale 1), so merging the file at strength 1 adds that approximation.
 * Modules whose weights are equal in both checkpoints are left out (a text encoder that was not trained).
 */
public final class LoraExtraction {
    /** kohya's default targets: every Linear and 1×1 conv in a transformer block, and the CLIP attention and MLP. */
    private static final Pattern TARGET = Pattern.compile("model\\.diffusion_model\\."
            + "(input_blocks\\.\\d+\\.1|middle_block\\.1|output_blocks\\.\\d+\\.1)\\."
            + "(proj_in|proj_out|transformer_blocks\\.\\d+\\.(attn[12]\\.(to_q|to_k|to_v|to_out\\.0)|ff\\.net\\.0\\.proj|ff\\.net\\.2))"
            + "\\.weight|cond_stage_model\\.transformer\\.text_model\\.encoder\\.layers\\.\\d+\\."
            + "(self_attn\\.(q_proj|k_proj|v_proj|out_proj)|mlp\\.fc1|mlp\\.fc2)\\.weight");

    private LoraExtraction() {
    }

    /**
     * What was extracted.
     *
     * @param tensors kohya tensors: {@code <name>.lora_down.weight}, {@code .lora_up.weight}, {@code .alpha}
     * @param modules how many modules differ and were extracted
     * @param unchanged how many target modules are equal in both checkpoints
     */
    public record Result(Map<String, Tensor> tensors, int modules, int unchanged) {
    }

    /** The rank-{@code rank} LoRA of {@code tuned − base} over kohya's default targets, under kohya names. */
    public static Result extract(Map<String, Tensor> base, Map<String, Tensor> tuned, int rank, KohyaNames names) {
        if (rank < 1) {
            throw new IllegalArgumentException("--rank must be at least 1, got " + rank);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        int modules = 0;
        int unchanged = 0;
        for (String key : targets(base)) {
            Tensor w0 = base.get(key);
            Tensor w1 = tuned.get(key);
            if (w1 == null || !java.util.Arrays.equals(w0.shape(), w1.shape())) {
                throw new IllegalArgumentException("the tuned checkpoint has " + (w1 == null ? "no '" + key + "'"
                        : "'" + key + "' of another shape") + "; extract from two checkpoints of the same model");
            }
            double[] delta = difference(w0, w1);
            if (isZero(delta)) {
                unchanged++;
                continue;
            }
            String module = key.substring(0, key.length() - ".weight".length());
            addModule(out, names.toKohya(module), delta, w0.shape(), rank);
            modules++;
        }
        return new Result(out, modules, unchanged);
    }

    /** The base's target weight keys, in checkpoint order. */
    static List<String> targets(Map<String, Tensor> base) {
        List<String> keys = new ArrayList<>();
        for (String k : base.keySet()) {
            if (TARGET.matcher(k).matches()) {
                keys.add(k);
            }
        }
        return keys;
    }

    private static void addModule(Map<String, Tensor> out, String name, double[] delta, int[] shape, int rank) {
        int rows = shape[0];
        int cols = delta.length / rows;
        TruncatedSvd.Factors f = TruncatedSvd.of(delta, rows, cols, rank);
        int r = f.rank();
        float[] up = toFloats(f.left());
        float[] down = toFloats(f.right());
        boolean conv = shape.length == 4;
        int[] downShape = conv ? new int[] {r, shape[1], shape[2], shape[3]} : new int[] {r, cols};
        int[] upShape = conv ? new int[] {rows, r, 1, 1} : new int[] {rows, r};
        out.put(name + ".lora_down.weight", Tensor.of(down, downShape));
        out.put(name + ".lora_up.weight", Tensor.of(up, upShape));
        out.put(name + ".alpha", Tensor.scalar(r));
    }

    private static float[] toFloats(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    private static double[] difference(Tensor w0, Tensor w1) {
        float[] a = w0.to(Device.CPU, DType.F32).toFloatArray();
        float[] b = w1.to(Device.CPU, DType.F32).toFloatArray();
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = (double) b[i] - a[i];
        }
        return d;
    }

    private static boolean isZero(double[] d) {
        for (double v : d) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
