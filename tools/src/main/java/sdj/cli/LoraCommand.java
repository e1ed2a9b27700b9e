package sdj.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.io.CheckpointConversion;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.lora.LoraRequest;
import sdj.tensor.Tensor;
import sdj.train.lora.LoraExtraction;

/**
 * `sdj lora merge --ckpt BASE --lora FILE[:STRENGTH] … --out MERGED.safetensors`: a full model with
 * LoRA files folded into its weights (W += strength·scale·up·down), each merged weight kept in the
 * base's dtype. Prints one line per LoRA file (modules applied, keys not used).
 * `sdj lora extract --base A --tuned B --rank R --out FILE.safetensors`: a kohya LoRA of B − A
 * ({@link LoraExtraction}: truncated SVD per module, alpha = R).
 */
public final class LoraCommand implements Command {
    @Override
    public String name() {
        return "lora";
    }

    @Override
    public String summary() {
        return "LoRA tools: merge --ckpt BASE --lora FILE:S --out OUT; extract --base A --tuned B --rank R --out OUT";
    }

    @Override
    public String positional() {
        return "merge|extract";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("ckpt").hasArg().desc("base checkpoint (.ckpt or .safetensors)").build());
        o.addOption(Option.builder().longOpt("lora").hasArg().argName("FILE[:STRENGTH]")
                .desc("LoRA file to merge at STRENGTH (default 1); repeatable, applied in order").build());
        o.addOption(Option.builder().longOpt("out").hasArg().desc("merged model to write (.safetensors or .ckpt)").build());
        o.addOption(Option.builder().longOpt("base").hasArg().desc("extract: the checkpoint before fine-tuning").build());
        o.addOption(Option.builder().longOpt("tuned").hasArg().desc("extract: the fine-tuned checkpoint").build());
        o.addOption(Option.builder().longOpt("rank").hasArg().desc("extract: LoRA rank (default 4)").build());
        o.addOption(Option.builder().longOpt("config").hasArg()
                .desc("model config JSON (default models/sd-v1.json; the UNet layout decides the names)").build());
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        String action = cmd.getArgs().length == 1 ? cmd.getArgs()[0] : "";
        return switch (action) {
            case "merge" -> merge(cmd);
            case "extract" -> extract(cmd);
            default -> throw new UserError("say what to do: 'sdj lora merge --ckpt BASE --lora FILE[:STRENGTH] ... --out OUT'"
                    + " or 'sdj lora extract --base A --tuned B --rank R --out OUT'");
        };
    }

    private static int merge(CommandLine cmd) throws Exception {
        if (!cmd.hasOption("ckpt") || !cmd.hasOption("lora") || !cmd.hasOption("out")) {
            throw new UserError("lora merge needs --ckpt BASE, at least one --lora FILE[:STRENGTH] and --out FILE");
        }
        Path base = VerifyCommand.existing(cmd.getOptionValue("ckpt"), "--ckpt");
        Path out = Path.of(cmd.getOptionValue("out"));
        List<LoraRequest> loras = new ArrayList<>();
        for (String flag : cmd.getOptionValues("lora")) {
            loras.add(LoraRequest.parse(flag));
        }
        long t0 = System.nanoTime();
        Map<String, Tensor> stateDict = StateDicts.load(base);
        Map<String, Tensor> merged;
        try {
            merged = LoraRequest.applyAll(stateDict, Flags.modelConfigs(cmd).detectFrom(stateDict), loras,
                    System.out::println);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Map<String, Tensor> written = new LinkedHashMap<>();
        merged.forEach((k, t) -> written.put(k, t == stateDict.get(k) ? t : t.to(stateDict.get(k).dtype())));
        Map<String, String> metadata = new LinkedHashMap<>(baseMetadata(base));
        metadata.put("sdj_lora_merged", String.join(", ", cmd.getOptionValues("lora")));
        CheckpointConversion.Written w = CheckpointConversion.write(
                new CheckpointConversion.Source(Map.of("state_dict", written), metadata, List.of()), out, null);
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors, %d bytes of tensor data, in %.1f s%n", out, w.tensors(),
                w.tensorBytes(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private static int extract(CommandLine cmd) throws Exception {
        if (!cmd.hasOption("base") || !cmd.hasOption("tuned") || !cmd.hasOption("out")) {
            throw new UserError("lora extract needs --base A, --tuned B and --out FILE.safetensors (and --rank R, default 4)");
        }
        Path out = Path.of(cmd.getOptionValue("out"));
        if (StateDicts.formatOf(out) != StateDicts.Format.SAFETENSORS) {
            throw new UserError("--out " + out + ": a LoRA is written as .safetensors (kohya format)");
        }
        int rank = Flags.intOpt(cmd, "rank", 4);
        long t0 = System.nanoTime();
        Map<String, Tensor> base = StateDicts.load(VerifyCommand.existing(cmd.getOptionValue("base"), "--base"));
        Map<String, Tensor> tuned = StateDicts.load(VerifyCommand.existing(cmd.getOptionValue("tuned"), "--tuned"));
        LoraExtraction.Result r;
        try {
            KohyaNames names = new KohyaNames(DiffusersNames.of(Flags.modelConfigs(cmd).detectFrom(base)));
            r = LoraExtraction.extract(base, tuned, rank, names);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("ss_network_module", "networks.lora");
        metadata.put("ss_network_dim", Integer.toString(rank));
        metadata.put("ss_network_alpha", Float.toString(rank));
        metadata.put("ss_base_model_version", "sd_v1");
        metadata.put("ss_v2", "False");
        metadata.put("modelspec.architecture", "stable-diffusion-v1/lora");
        SafeTensors.write(out, r.tensors(), metadata);
        System.out.printf(Locale.ROOT, "wrote %s: rank %d, %d modules (%d unchanged left out), in %.1f s%n", out, rank,
                r.modules(), r.unchanged(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private static Map<String, String> baseMetadata(Path base) throws java.io.IOException {
        return StateDicts.formatOfContent(base) == StateDicts.Format.SAFETENSORS ? SafeTensors.open(base).metadata()
                : Map.of();
    }
}
