package sdj.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.io.StateDicts;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Tensor;
import sdj.train.cd.CustomDiffusionDelta;
import sdj.train.cd.CustomDiffusionMerge;
import sdj.train.cd.DeltaCompression;
import sdj.train.cd.DeltaFileWriter;
import sdj.train.cd.DeltaFiles;
import sdj.train.cd.LoraExport;

/**
 * `sdj cd compress|merge|export-lora`: the Custom Diffusion delta tools of adobe's repository (compress.py,
 * composenW.py) and an export to kohya LoRA files. Every delta layout is read ({@link DeltaFiles}).
 */
public final class CdCommand implements Command {
    @Override
    public String name() {
        return "cd";
    }

    @Override
    public String summary() {
        return "Custom Diffusion deltas: compress (SVD), merge (closed form), export-lora (kohya file + embeddings)";
    }

    @Override
    public String positional() {
        return "compress DELTA | merge | export-lora DELTA";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("base").hasArg().argName("CKPT")
                .desc("the base checkpoint the deltas were trained from (required)").build());
        o.addOption(Option.builder().longOpt("out").hasArg().argName("FILE")
                .desc("output: a .ckpt (adobe layout), a .bin (adobe diffusers layout) or, for merge, a folder"
                        + " (diffusers layout); export-lora: a .safetensors").build());
        o.addOption(Option.builder().longOpt("delta").hasArg().argName("FILE")
                .desc("merge: a single-concept delta (repeat, at least twice)").build());
        o.addOption(Option.builder().longOpt("categories").hasArg().argName("A+B")
                .desc("merge: the deltas' categories joined by '+', in --delta order, e.g. \"cat+dog\"").build());
        o.addOption(Option.builder().longOpt("reg-captions").hasArg().argName("FILE")
                .desc("merge: regularization captions, one per line (the first 200 are used; required: adobe's"
                        + " default is a caption file of its own repository)").build());
        o.addOption(Option.builder().longOpt("ratio").hasArg().argName("R")
                .desc("compress / export-lora: keep singular values until their running share exceeds R (default 0.6)")
                .build());
        o.addOption(Option.builder().longOpt("full-rank")
                .desc("export-lora: write W_ft − W_pre as <module>.diff instead of low-rank up/down").build());
        o.addOption(Option.builder().longOpt("config").hasArg()
                .desc("model config JSON (default models/sd-v1.json)").build());
        o.addOption(Option.builder().longOpt("vocab").hasArg()
                .desc("CLIP BPE vocabulary (merge; default: models/clip or $SDJ_CLIP_VOCAB)").build());
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        String[] args = cmd.getArgs();
        if (args.length == 0) {
            throw new UserError("give a tool: 'sdj cd compress DELTA', 'sdj cd merge --delta D1 --delta D2 ...' or"
                    + " 'sdj cd export-lora DELTA'");
        }
        ModelConfigs configs = Flags.modelConfigs(cmd);
        DeltaFiles files = new DeltaFiles(DiffusersNames.of(configs));
        String tool = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        return switch (tool) {
            case "compress" -> compress(cmd, files, one(rest, tool));
            case "merge" -> merge(cmd, files, configs, rest);
            case "export-lora" -> exportLora(cmd, files, configs, one(rest, tool));
            default -> throw new UserError("unknown tool '" + tool + "'; use compress, merge or export-lora");
        };
    }

    private int compress(CommandLine cmd, DeltaFiles files, Path deltaPath) throws Exception {
        Path out = out(cmd);
        Map<String, Tensor> base = base(cmd);
        CustomDiffusionDelta delta = files.read(deltaPath);
        double ratio = Flags.doubleOpt(cmd, "ratio", DeltaCompression.DEFAULT_RATIO);
        CustomDiffusionDelta compressed = DeltaCompression.compress(delta, base, ratio);
        write(files, out, compressed);
        List<Integer> ranks = compressed.lowRank().values().stream().map(l -> l.rank()).toList();
        System.out.printf(Locale.ROOT, "wrote %s: %d weights as u·v (ranks %d..%d), %d token(s), %d bytes%n", out,
                ranks.size(), ranks.stream().mapToInt(i -> i).min().orElse(0),
                ranks.stream().mapToInt(i -> i).max().orElse(0), compressed.tokens().size(), Files.size(out));
        return 0;
    }

    private int merge(CommandLine cmd, DeltaFiles files, ModelConfigs configs, List<String> rest) throws Exception {
        if (!rest.isEmpty()) {
            throw new UserError("merge takes its deltas as --delta FILE (repeated), not as " + rest);
        }
        String[] deltaPaths = cmd.getOptionValues("delta");
        if (deltaPaths == null || deltaPaths.length < 2) {
            throw new UserError("merge needs at least two --delta FILE");
        }
        List<String> categories = cmd.hasOption("categories")
                ? Arrays.asList(cmd.getOptionValue("categories").split("\\+")) : List.of();
        if (categories.size() != deltaPaths.length) {
            throw new UserError("--categories needs one category per --delta joined by '+', e.g. \"cat+dog\"; got "
                    + categories.size() + " for " + deltaPaths.length + " deltas");
        }
        if (!cmd.hasOption("reg-captions")) {
            throw new UserError("merge needs --reg-captions FILE (one caption per line, ~200 varied ones such as"
                    + " retrieved image captions; adobe's composenW.py defaults to a caption file of its own repository)");
        }
        Path out = out(cmd);
        Path captionsPath = existing(cmd.getOptionValue("reg-captions"), "--reg-captions");
        List<String> captions = Files.readAllLines(captionsPath).stream().map(String::strip)
                .filter(s -> !s.isEmpty()).toList();
        List<CustomDiffusionDelta> deltas = new ArrayList<>();
        for (String p : deltaPaths) {
            deltas.add(files.read(existing(p, "--delta")));
        }
        Map<String, Tensor> base = base(cmd);
        ClipTokenizer tokenizer = ClipTokenizer.load(ClipVocabLocator.locate(cmd.getOptionValue("vocab")));
        long t0 = System.nanoTime();
        CustomDiffusionMerge.Result result = CustomDiffusionMerge.merge(base, configs, cmd.getOptionValue("base"),
                tokenizer, deltas, categories, captions);
        String warning = result.solver().conditionWarning();
        if (warning != null) {
            System.out.println("warning: " + warning);
        }
        write(files, out, result.delta());
        System.out.printf(Locale.ROOT, "wrote %s: %d merged weights, tokens %s, %d regularization rows, %d target rows,"
                + " cond₁(C_regᵀC_reg) %.3e, in %.1f s%n", out, result.delta().weights().size(), result.delta().tokens(),
                result.cReg().length / (result.targets().rows().length / result.targets().count()),
                result.targets().count(), result.solver().conditionNumber(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private int exportLora(CommandLine cmd, DeltaFiles files, ModelConfigs configs, Path deltaPath) throws Exception {
        Path out = out(cmd);
        if (!out.getFileName().toString().endsWith(".safetensors")) {
            throw new UserError("--out of export-lora must be a .safetensors file (what LoRA loaders read)");
        }
        Map<String, Tensor> base = base(cmd);
        CustomDiffusionDelta delta = files.read(deltaPath);
        LoraExport.Written w = LoraExport.write(out, delta, base, new KohyaNames(DiffusersNames.of(configs)),
                cmd.hasOption("full-rank"), Flags.doubleOpt(cmd, "ratio", DeltaCompression.DEFAULT_RATIO));
        System.out.printf(Locale.ROOT, "wrote %s: %d modules (%s), scale 1 (alpha = rank)%n", out, w.modules(),
                w.ranks().isEmpty() ? "full-rank .diff" : "ranks " + w.ranks());
        for (Path e : w.embeddings()) {
            System.out.println("wrote " + e + " (put it in the embeddings folder; the prompt word is its file name)");
        }
        return 0;
    }

    /** By --out: a folder or no extension → diffusers folder, .bin → adobe diffusers, else adobe CompVis. */
    private static void write(DeltaFiles files, Path out, CustomDiffusionDelta delta) throws Exception {
        DeltaFileWriter writer = new DeltaFileWriter(files.keys());
        String name = out.getFileName().toString();
        if (name.endsWith(".bin")) {
            writer.writeAdobeDiffusers(out, delta);
        } else if (Files.isDirectory(out) || !name.contains(".")) {
            writer.writeDiffusers(out, delta);
        } else {
            writer.writeCompVis(out, delta);
        }
    }

    private static Path one(List<String> rest, String tool) {
        if (rest.size() != 1) {
            throw new UserError(tool + " takes one delta file (or diffusers folder), got " + rest.size());
        }
        return existing(rest.get(0), "the delta");
    }

    private static Path out(CommandLine cmd) {
        if (!cmd.hasOption("out")) {
            throw new UserError("give --out FILE for the result");
        }
        return Path.of(cmd.getOptionValue("out"));
    }

    private static Map<String, Tensor> base(CommandLine cmd) throws Exception {
        if (!cmd.hasOption("base")) {
            throw new UserError("give --base CKPT, the checkpoint the deltas were trained from");
        }
        return StateDicts.load(existing(cmd.getOptionValue("base"), "--base"));
    }

    private static Path existing(String path, String what) {
        Path p = Path.of(path);
        if (!Files.exists(p)) {
            throw new UserError(what + " " + p + " does not exist");
        }
        return p;
    }
}
