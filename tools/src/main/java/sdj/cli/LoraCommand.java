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
import sdj.io.CheckpointConversion;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.sd.lora.LoraRequest;
import sdj.tensor.Tensor;

/**
 * `sdj lora merge --ckpt BASE --lora FILE[:STRENGTH] … --out MERGED.safetensors`: a full model with
 * LoRA files folded into its weights (W += strength·scale·up·down), each merged weight kept in the
 * base's dtype. Prints one line per LoRA file (modules applied, keys not used).
 */
public final class LoraCommand implements Command {
    @Override
    public String name() {
        return "lora";
    }

    @Override
    public String summary() {
        return "merge LoRA files into a checkpoint: lora merge --ckpt BASE --lora FILE:STRENGTH --out OUT";
    }

    @Override
    public String positional() {
        return "merge";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("ckpt").hasArg().desc("base checkpoint (.ckpt or .safetensors)").build());
        o.addOption(Option.builder().longOpt("lora").hasArg().argName("FILE[:STRENGTH]")
                .desc("LoRA file to merge at STRENGTH (default 1); repeatable, applied in order").build());
        o.addOption(Option.builder().longOpt("out").hasArg().desc("merged model to write (.safetensors or .ckpt)").build());
        o.addOption(Option.builder().longOpt("config").hasArg()
                .desc("model config JSON (default models/sd-v1.json; the UNet layout decides the names)").build());
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        if (cmd.getArgs().length != 1 || !cmd.getArgs()[0].equals("merge")) {
            throw new UserError("say what to do: 'sdj lora merge --ckpt BASE --lora FILE[:STRENGTH] ... --out OUT'");
        }
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

    private static Map<String, String> baseMetadata(Path base) throws java.io.IOException {
        return StateDicts.formatOfContent(base) == StateDicts.Format.SAFETENSORS ? SafeTensors.open(base).metadata()
                : Map.of();
    }
}
