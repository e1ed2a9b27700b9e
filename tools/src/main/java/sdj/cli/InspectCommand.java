package sdj.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TorchCheckpoint;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** `sdj inspect FILE`: what a .ckpt or .safetensors holds, one line per tensor, and how long opening took. */
public final class InspectCommand implements Command {
    @Override
    public String name() {
        return "inspect";
    }

    @Override
    public String summary() {
        return "list the tensors (name dtype shape) of a .ckpt or .safetensors file";
    }

    @Override
    public String positional() {
        return "FILE";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("filter").hasArg().argName("REGEX")
                .desc("only tensors whose name contains a match of REGEX").build());
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        if (cmd.getArgs().length != 1) {
            throw new UserError("say which file to inspect, e.g. 'sdj inspect sd-v1-4.ckpt'");
        }
        Path file = Path.of(cmd.getArgs()[0]);
        Pattern filter = null;
        if (cmd.hasOption("filter")) {
            try {
                filter = Pattern.compile(cmd.getOptionValue("filter"));
            } catch (PatternSyntaxException e) {
                throw new UserError("--filter is not a valid regular expression: " + e.getDescription());
            }
        }
        long t0 = System.nanoTime();
        Map<String, Tensor> tensors;
        List<String> header;
        String kind;
        if (StateDicts.formatOfContent(file) == StateDicts.Format.SAFETENSORS) {
            SafeTensors st = SafeTensors.open(file);
            tensors = st.tensors();
            kind = "safetensors";
            header = st.metadata().entrySet().stream()
                    .map(e -> "metadata " + e.getKey() + ": " + abbreviate(e.getValue())).toList();
        } else {
            TorchCheckpoint ckpt = TorchCheckpoint.open(file);
            tensors = ckpt.stateDict();
            kind = "PyTorch checkpoint, archive '" + ckpt.archiveName() + "'";
            header = topLevel(ckpt.root());
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        System.out.printf(Locale.ROOT, "%s (%s): opened in %.1f ms%n", file, kind, ms);
        header.forEach(System.out::println);
        long count = 0;
        long params = 0;
        long bytes = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (filter != null && !filter.matcher(e.getKey()).find()) {
                continue;
            }
            Tensor t = e.getValue();
            System.out.println(e.getKey() + " " + t.dtype() + " " + Shape.str(t.shape()));
            count++;
            params += t.numel();
            bytes += t.numel() * t.dtype().byteSize;
        }
        System.out.println(count + " tensors, " + params + " parameters, " + bytes + " bytes");
        return 0;
    }

    /** One line per top-level entry of a checkpoint: "global_step: 470000", "state_dict: 1141 entries". */
    static List<String> topLevel(Object root) {
        if (!(root instanceof Map<?, ?> m)) {
            return List.of("root: " + describe(root));
        }
        return m.entrySet().stream().map(e -> e.getKey() + ": " + describe(e.getValue())).toList();
    }

    static String describe(Object v) {
        return switch (v) {
            case null -> "None";
            case Tensor t -> "tensor " + t.dtype() + " " + Shape.str(t.shape());
            case Map<?, ?> m -> m.size() + " entries";
            case List<?> l -> "a list of " + l.size();
            case String s -> "'" + abbreviate(s) + "'";
            case Number n -> n.toString();
            case Boolean b -> b ? "True" : "False";
            default -> v.toString();
        };
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() <= 100 ? one : one.substring(0, 97) + "...";
    }
}
