package sdj.sd.lora;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdj.sd.DiffusersNames;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Folds LoRA adapters into a checkpoint's state dict before the model is built (the inference path):
 * {@code W += strength · scale · up·down}, with up flattened to [out, r] and down to [r, in·k·k]
 * and the product reshaped to W (Linear, 1×1 conv, and LoCon's 3×3 down with a 1×1 up alike);
 * biases stay. Full-rank {@code .diff}/{@code .diff_b} tensors are added times the strength. Only the
 * changed tensors are new; every other entry is the caller's.
 */
public final class LoraMerge {
    /** How many unused names a summary line lists before it only counts. */
    private static final int LISTED_UNUSED = 20;

    private final LoraTargets targets;

    public LoraMerge(DiffusersNames names) {
        this.targets = new LoraTargets(names);
    }

    /**
     * What one file did.
     *
     * @param stateDict the state dict with the adapted weights replaced
     * @param applied how many adapters were folded in
     * @param unusedKeys the file's tensor names that changed nothing: no adapter part, no matching model
     *     weight, or a shape the weight cannot take
     */
    public record Result(Map<String, Tensor> stateDict, int applied, List<String> unusedKeys) {
        /** One line for the console: the file, its strength, the count, and which keys were not used. */
        public String summary(String origin, float strength) {
            return summary(origin, Strength.of(strength));
        }

        /** As above, with separate text-encoder and UNet strengths. */
        public String summary(String origin, Strength strength) {
            String line = String.format(Locale.ROOT, "lora %s (strength %s): applied %d modules, ", origin,
                    strength, applied);
            if (unusedKeys.isEmpty()) {
                return line + "every key used";
            }
            List<String> shown = unusedKeys.subList(0, Math.min(LISTED_UNUSED, unusedKeys.size()));
            return line + unusedKeys.size() + " keys not used: " + String.join(", ", shown)
                    + (unusedKeys.size() > shown.size() ? ", … (" + (unusedKeys.size() - shown.size()) + " more)" : "");
        }
    }

    /** {@code stateDict} with {@code file}'s adapters folded in at {@code strength}. */
    public Result apply(Map<String, Tensor> stateDict, LoraFile file, float strength) {
        return apply(stateDict, file, Strength.of(strength));
    }

    /** As above, text-encoder modules at {@code strength.textEncoder()}, UNet modules at {@code strength.unet()}. */
    public Result apply(Map<String, Tensor> stateDict, LoraFile file, Strength strength) {
        Map<String, Tensor> out = new LinkedHashMap<>(stateDict);
        List<String> unused = new ArrayList<>(file.unusedKeys());
        int applied = 0;
        for (LoraFile.Module m : file.modules()) {
            String module = targets.ldmModule(m.name());
            Tensor w = module == null ? null : out.get(module + ".weight");
            if (w == null || !fits(w, m)) {
                unused.addAll(m.keys());
                continue;
            }
            out.put(module + ".weight", merged(w, m, strength.forModule(module)));
            applied++;
        }
        for (LoraFile.Diff d : file.diffs()) {
            String module = targets.ldmModule(d.name());
            boolean weight = module != null && addDiff(out, module + ".weight", d.weight(), strength.forModule(module));
            boolean bias = module != null && addDiff(out, module + ".bias", d.bias(), strength.forModule(module));
            if (d.weight() != null && !weight) {
                unused.add(d.keys().get(0));
            }
            if (d.bias() != null && !bias) {
                unused.add(d.keys().get(d.keys().size() - 1));
            }
            applied += weight || bias ? 1 : 0;
        }
        return new Result(out, applied, List.copyOf(unused));
    }

    /** Adds strength·delta to out[key] when both exist with the same shape; says whether it did. */
    private static boolean addDiff(Map<String, Tensor> out, String key, Tensor delta, float strength) {
        Tensor w = out.get(key);
        if (delta == null || w == null || !Arrays.equals(w.shape(), delta.shape())) {
            return false;
        }
        out.put(key, w.to(Device.CPU, DType.F32).add(delta.to(Device.CPU, DType.F32).mul(strength)));
        return true;
    }

    /** Whether ΔW of m has W's shape once reshaped: same outputs, same inputs (and kernel where both say). */
    static boolean fits(Tensor w, LoraFile.Module m) {
        int r = m.rank();
        long columns = m.down().numel() / r;
        if (m.up().size(0) != w.size(0) || m.up().numel() != (long) w.size(0) * r || w.numel() != w.size(0) * columns) {
            return false;
        }
        return w.dim() != m.down().dim() || Arrays.equals(Arrays.copyOfRange(w.shape(), 1, w.dim()),
                Arrays.copyOfRange(m.down().shape(), 1, w.dim()));
    }

    /** W + strength·scale·(up_flat · down_flat) reshaped to W, in fp32. */
    static Tensor merged(Tensor w, LoraFile.Module m, float strength) {
        int r = m.rank();
        int out = w.size(0);
        int columns = (int) (m.down().numel() / r);
        Tensor up = m.up().to(Device.CPU, DType.F32).contiguous().reshape(out, r);
        Tensor down = m.down().to(Device.CPU, DType.F32).contiguous().reshape(r, columns);
        Tensor delta = up.matmul(down).mul(strength * m.scale()).reshape(w.shape());
        return w.to(Device.CPU, DType.F32).add(delta);
    }
}
