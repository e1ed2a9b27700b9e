package sdj.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.io.CheckpointConversion;
import sdj.io.StateDicts;
import sdj.tensor.DType;

/**
 * `sdj convert IN OUT`: .ckpt ↔ .safetensors by extension, optionally casting float tensors (the
 * conversion itself is {@link CheckpointConversion}).
 */
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
        long t0 = System.nanoTime();
        CheckpointConversion.Source source = CheckpointConversion.read(in, outFormat, cmd.hasOption("only-state-dict"));
        if (!source.notCopied().isEmpty()) {
            System.out.println("note: safetensors holds only tensors; not copied: " + String.join(", ", source.notCopied()));
        }
        CheckpointConversion.Written written = CheckpointConversion.write(source, out, dtype);
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors, %d bytes of tensor data, in %.1f s%n", out,
                written.tensors(), written.tensorBytes(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
