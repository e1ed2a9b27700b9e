package sdj.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * A checkpoint rewritten as .ckpt or .safetensors, optionally with its floating-point tensors cast
 * to another type: {@link #read} what to write, then {@link #write} it. Safetensors holds only
 * tensors, so a .ckpt bound for it keeps just its state_dict, and the entries left out are named so
 * the caller can say so.
 */
public final class CheckpointConversion {
    /** Nesting beyond this is not a checkpoint anyone saved; it stops the walk before the stack does. */
    private static final int MAX_DEPTH = 100;

    private CheckpointConversion() {
    }

    /**
     * What a conversion writes.
     *
     * @param root the tree to write: {"state_dict": tensors} or, .ckpt to .ckpt, the whole checkpoint
     * @param metadata a safetensors input's metadata, kept when the output is safetensors too (else empty)
     * @param notCopied the input's top-level entries besides state_dict that the output format cannot hold
     */
    public record Source(Object root, Map<String, String> metadata, List<String> notCopied) {
    }

    /** What was written: the number of tensors and the bytes of their data. */
    public record Written(int tensors, long tensorBytes) {
    }

    /**
     * Reads {@code in} (format told by its content) for writing as {@code outFormat}. A .ckpt keeps its
     * other entries (global_step, optimizer state, ...) only when written as .ckpt without
     * {@code onlyStateDict}.
     */
    public static Source read(Path in, StateDicts.Format outFormat, boolean onlyStateDict) throws IOException {
        if (StateDicts.formatOfContent(in) == StateDicts.Format.SAFETENSORS) {
            SafeTensors st = SafeTensors.open(in);
            return new Source(Map.of("state_dict", st.tensors()), st.metadata(), List.of());
        }
        TorchCheckpoint ckpt = TorchCheckpoint.open(in);
        boolean toSafeTensors = outFormat == StateDicts.Format.SAFETENSORS;
        Object root = onlyStateDict || toSafeTensors ? Map.of("state_dict", ckpt.stateDict()) : ckpt.root();
        return new Source(root, Map.of(), toSafeTensors ? entriesBesideStateDict(ckpt.root()) : List.of());
    }

    /**
     * Writes {@code source} to {@code out} in the format its name asks for, with floating-point
     * tensors cast to {@code dtype} (null: every tensor keeps its type; integer tensors always do).
     */
    public static Written write(Source source, Path out, DType dtype) throws IOException {
        Object converted = cast(source.root(), dtype);
        LinkedHashMap<String, Tensor> tensors = tensorsOf(converted);
        if (StateDicts.formatOf(out) == StateDicts.Format.SAFETENSORS) {
            SafeTensors.write(out, tensors, source.metadata());
        } else {
            TorchCheckpointWriter.write(out, converted);
        }
        long bytes = tensors.values().stream().mapToLong(t -> t.numel() * t.dtype().byteSize).sum();
        return new Written(tensors.size(), bytes);
    }

    /**
     * The same tree (maps, lists, tensors, other values) with floating-point tensors cast to
     * {@code dtype}; a tensor is copied only where its type changes, and a null dtype changes nothing.
     */
    public static Object cast(Object tree, DType dtype) throws CheckpointException {
        return cast(tree, dtype, 0);
    }

    private static Object cast(Object v, DType dtype, int depth) throws CheckpointException {
        if (depth > MAX_DEPTH) {
            throw new CheckpointException("checkpoint nests deeper than 100 levels; cannot convert it");
        }
        return switch (v) {
            case Tensor t -> dtype != null && t.dtype().isFloating() && t.dtype() != dtype ? t.to(dtype) : t;
            case Map<?, ?> m -> {
                Map<Object, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    out.put(e.getKey(), cast(e.getValue(), dtype, depth + 1));
                }
                yield out;
            }
            case List<?> l -> {
                List<Object> out = new ArrayList<>();
                for (Object o : l) {
                    out.add(cast(o, dtype, depth + 1));
                }
                yield out;
            }
            case null -> null;
            default -> v;
        };
    }

    /** Top-level checkpoint entries other than the weights (none unless there is a state_dict). */
    static List<String> entriesBesideStateDict(Object root) {
        List<String> out = new ArrayList<>();
        if (root instanceof Map<?, ?> m && m.get("state_dict") instanceof Map<?, ?>) {
            for (Object k : m.keySet()) {
                if (!"state_dict".equals(k)) {
                    out.add(String.valueOf(k));
                }
            }
        }
        return out;
    }

    /** The named tensors of a tree: its state_dict's, else its own top-level ones. */
    static LinkedHashMap<String, Tensor> tensorsOf(Object root) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        if (root instanceof Map<?, ?> m) {
            Map<?, ?> dict = m.get("state_dict") instanceof Map<?, ?> sd ? sd : m;
            for (Map.Entry<?, ?> e : dict.entrySet()) {
                if (e.getKey() instanceof String k && e.getValue() instanceof Tensor t) {
                    out.put(k, t);
                }
            }
        }
        return out;
    }
}
