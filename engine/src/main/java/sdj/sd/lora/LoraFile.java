package sdj.sd.lora;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.io.StateDicts;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * A LoRA file's adapters, grouped by the module each one modifies as the file names it (kohya,
 * diffusers, PEFT or attention-processor names, see {@link LoraKeys}). Which model weight a module is
 * is decided when it is applied ({@link LoraMerge}). Tensors that are no adapter part, and parts
 * without their partner (a down without an up), are kept as {@link #unusedKeys()}.
 *
 * @param origin the file name, for messages
 * @param modules complete adapters, in file order
 * @param diffs full-rank differences ({@code .diff}, {@code .diff_b}), in file order
 * @param unusedKeys tensor names that form no complete adapter
 */
public record LoraFile(String origin, List<Module> modules, List<Diff> diffs, List<String> unusedKeys) {

    /**
     * One adapter: ΔW = up·down (flattened to [out, r]·[r, in·k·k]) times {@link #scale()}.
     *
     * @param name the module as the file names it
     * @param down [r, in] or [r, in, k, k]
     * @param up [out, r] or [out, r, 1, 1]
     * @param alpha the file's {@code .alpha}, or null
     * @param explicitScale the file's {@code .scale}, or null
     * @param keys the tensor names this adapter is made of
     */
    public record Module(String name, Tensor down, Tensor up, Float alpha, Float explicitScale, List<String> keys) {
        public int rank() {
            return down.size(0);
        }

        /** {@code .scale} when the file has it, else alpha/r, else 1 (sd.cpp, A1111, kohya merge_lora). */
        public float scale() {
            return explicitScale != null ? explicitScale : alpha != null ? alpha / rank() : 1f;
        }
    }

    /**
     * A full-rank difference, added as it is (times the strength).
     *
     * @param name the module as the file names it
     * @param weight ΔW with the weight's shape, or null
     * @param bias Δbias, or null
     * @param keys the tensor names it is made of
     */
    public record Diff(String name, Tensor weight, Tensor bias, List<String> keys) {
    }

    /** Reads a .safetensors (or PyTorch .bin/.pt) LoRA file. */
    public static LoraFile read(Path file) throws IOException {
        return of(StateDicts.load(file), file.toString());
    }

    /** The adapters among {@code tensors}; {@code origin} names them in messages. */
    public static LoraFile of(Map<String, Tensor> tensors, String origin) {
        Map<String, Map<LoraKeys.Role, String>> parts = new LinkedHashMap<>();
        List<String> unused = new ArrayList<>();
        for (String key : tensors.keySet()) {
            LoraKeys.Part p = LoraKeys.parse(key);
            if (p == null) {
                unused.add(key);
            } else if (parts.computeIfAbsent(p.module(), m -> new LinkedHashMap<>()).put(p.role(), key) != null) {
                throw new IllegalArgumentException(origin + ": module '" + p.module() + "' has two " + p.role()
                        + " tensors (one is '" + key + "'); the file mixes two naming styles for one layer, keep one");
            }
        }
        List<Module> modules = new ArrayList<>();
        List<Diff> diffs = new ArrayList<>();
        for (Map.Entry<String, Map<LoraKeys.Role, String>> e : parts.entrySet()) {
            Map<LoraKeys.Role, String> roles = new LinkedHashMap<>(e.getValue());
            String diff = roles.remove(LoraKeys.Role.DIFF);
            String diffBias = roles.remove(LoraKeys.Role.DIFF_BIAS);
            if (diff != null || diffBias != null) {
                List<String> keys = new ArrayList<>();
                for (String k : new String[] {diff, diffBias}) {
                    if (k != null) {
                        keys.add(k);
                    }
                }
                diffs.add(new Diff(e.getKey(), diff == null ? null : tensors.get(diff),
                        diffBias == null ? null : tensors.get(diffBias), List.copyOf(keys)));
            }
            if (roles.isEmpty()) {
                continue;
            }
            String down = roles.get(LoraKeys.Role.DOWN);
            String up = roles.get(LoraKeys.Role.UP);
            if (down == null || up == null) {
                unused.addAll(roles.values());
                continue;
            }
            Tensor d = tensors.get(down);
            Tensor u = tensors.get(up);
            if (d.dim() < 2 || u.dim() < 2 || u.size(1) != d.size(0)) {
                throw new IllegalArgumentException(origin + ": adapter '" + e.getKey() + "' has down " + shape(d) + " and up "
                        + shape(u) + "; up must be [out, r(,1,1)] for down [r, in(,k,k)]: the file is damaged or not a LoRA");
            }
            modules.add(new Module(e.getKey(), d, u, scalar(tensors, roles.get(LoraKeys.Role.ALPHA)),
                    scalar(tensors, roles.get(LoraKeys.Role.SCALE)), List.copyOf(roles.values())));
        }
        return new LoraFile(origin, List.copyOf(modules), List.copyOf(diffs), List.copyOf(unused));
    }

    private static Float scalar(Map<String, Tensor> tensors, String key) {
        return key == null ? null : tensors.get(key).to(Device.CPU, DType.F32).toFloatArray()[0];
    }

    private static String shape(Tensor t) {
        return java.util.Arrays.toString(t.shape());
    }
}
