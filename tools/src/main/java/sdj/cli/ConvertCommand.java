package sdj.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.io.CheckpointException;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TorchCheckpoint;
import sdj.io.TorchCheckpointWriter;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/** `sdj convert IN OUT`: .ckpt ↔ .safetensors by extension, optionally casting float tensors. */
public final class ConvertCommand implements Command {
    @Override
    public String name() {
        return "convert";
    }

    @Override
    public String summary() {
        return "convert between .ckpt and .safetensors, optionally to f16/bf16/f32";
    }

    @Override
    public String positional() {
        return "IN OUT";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("dtype").hasArg().argName("f16|bf16|f32")
                .desc("store floating-point tensors in this type (integer tensors keep theirs)").build());
        o.addOption(Option.builder().longOpt("only-state-dict")
                .desc("keep only the model weights (drop global_step, optimizer state, ...)").build());
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        if (cmd.getArgs().length != 2) {
            throw new UserError("give an input and an output file, e.g. 'sdj convert sd-v1-4.ckpt sd-v1-4.safetensors'");
        }
        Path in = Path.of(cmd.getArgs()[0]);
        Path out = Path.of(cmd.getArgs()[1]);
        DType dtype = null;
        if (cmd.hasOption("dtype")) {
            String d = cmd.getOptionValue("dtype");
            dtype = switch (d.toLowerCase(Locale.ROOT)) {
                case "f16", "fp16", "float16" -> DType.F16;
                case "bf16", "bfloat16" -> DType.BF16;
                case "f32", "fp32", "float32" -> DType.F32;
                default -> throw new UserError("--dtype must be f16, bf16 or f32, got '" + d + "'");
            };
        }
        if (!Files.isRegularFile(in)) {
            throw new UserError(in + ": no such file");
        }
        StateDicts.Format outFormat = StateDicts.formatOf(out);
        boolean onlyStateDict = cmd.hasOption("only-state-dict");
        long t0 = System.nanoTime();
        Object root;
        Map<String, String> metadata = Map.of();
        if (StateDicts.formatOfContent(in) == StateDicts.Format.SAFETENSORS) {
            SafeTensors st = SafeTensors.open(in);
            root = Map.of("state_dict", st.tensors());
            metadata = st.metadata();
        } else {
            TorchCheckpoint ckpt = TorchCheckpoint.open(in);
            root = onlyStateDict || outFormat == StateDicts.Format.SAFETENSORS
                    ? Map.of("state_dict", ckpt.stateDict()) : ckpt.root();
            if (outFormat == StateDicts.Format.SAFETENSORS) {
                List<String> dropped = dropped(ckpt.root());
                if (!dropped.isEmpty()) {
                    System.out.println("note: safetensors holds only tensors; not copied: " + String.join(", ", dropped));
                }
            }
        }
        Object converted = cast(root, dtype, 0);
        LinkedHashMap<String, Tensor> tensors = tensorsOf(converted);
        if (outFormat == StateDicts.Format.SAFETENSORS) {
            SafeTensors.write(out, tensors, metadata);
        } else {
            TorchCheckpointWriter.write(out, converted);
        }
        long bytes = tensors.values().stream().mapToLong(t -> t.numel() * t.dtype().byteSize).sum();
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors, %d bytes of tensor data, in %.1f s%n", out, tensors.size(),
                bytes, (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** Top-level checkpoint entries other than the weights. */
    private static List<String> dropped(Object root) {
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

    private static LinkedHashMap<String, Tensor> tensorsOf(Object root) throws CheckpointException {
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

    /** The same tree with floating tensors cast to dtype (a copy only where the type changes). */
    static Object cast(Object v, DType dtype, int depth) throws CheckpointException {
        if (depth > 100) {
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
}
