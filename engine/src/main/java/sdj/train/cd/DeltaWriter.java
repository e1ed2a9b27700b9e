package sdj.train.cd;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sdj.io.SafeTensors;
import sdj.io.TorchCheckpointWriter;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Writes a Custom Diffusion result in the two layouts the tools read:
 * <ul>
 * <li>adobe's {@code get_deltas.py}: {@code delta.ckpt} = {@code {'state_dict': {<LDM attn2 to_k/to_v keys, sorted>:
 * [C, ctx], 'embed': [n, width]}}} as a torch zip pickle (only k/v, even when crossattn trained q and out too,
 * as get_deltas does);
 * <li>diffusers' {@code save_attn_procs}: {@code pytorch_custom_diffusion_weights.safetensors} with
 * {@code <diffusers block>.transformer_blocks.N.attn2.processor.to_k_custom_diffusion.weight} (every trained attn2
 * tensor) and one {@code <token>.safetensors} = {@code {token: [width]}} per added token, metadata
 * {@code format: pt}.
 * </ul>
 * Tensors are written as host fp32 copies.
 */
public final class DeltaWriter {
    public static final String COMPVIS_FILE = "delta.ckpt";
    public static final String DIFFUSERS_FILE = "pytorch_custom_diffusion_weights.safetensors";
    private static final Pattern KV = Pattern.compile(".*\\.attn2\\.to_[kv]\\.weight$");
    private static final Pattern LDM = Pattern.compile(
            "^model\\.diffusion_model\\.(input_blocks|middle_block|output_blocks)\\.(?:(\\d+)\\.)?1\\.(transformer_blocks\\.\\d+"
                    + "\\.attn2)\\.(to_q|to_k|to_v|to_out\\.0)\\.(weight|bias)$");

    private DeltaWriter() {
    }

    /** adobe's layout: the k/v weights among {@code trained} (LDM names) in name order, then {@code embed}. */
    public static void writeCompVis(Path file, Map<String, Tensor> trained, Tensor embed) throws IOException {
        Map<String, Object> stateDict = new LinkedHashMap<>();
        trained.keySet().stream().filter(k -> KV.matcher(k).matches()).sorted()
                .forEach(k -> stateDict.put(k, host(trained.get(k))));
        stateDict.put("embed", host(embed));
        TorchCheckpointWriter.write(file, Map.of("state_dict", stateDict));
    }

    /** diffusers' layout in {@code folder}: the processor weights file and one embedding file per token. */
    public static void writeDiffusers(Path folder, Map<String, Tensor> trained, List<String> tokens, Tensor embed)
            throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        trained.keySet().stream().sorted().forEach(k -> weights.put(diffusersName(k), host(trained.get(k))));
        SafeTensors.write(folder.resolve(DIFFUSERS_FILE), weights, Map.of("format", "pt"));
        Tensor rows = host(embed);
        int w = rows.size(1);
        float[] all = rows.toFloatArray();
        for (int i = 0; i < tokens.size(); i++) {
            float[] row = java.util.Arrays.copyOfRange(all, i * w, (i + 1) * w);
            SafeTensors.write(folder.resolve(tokens.get(i) + ".safetensors"), Map.of(tokens.get(i), Tensor.of(row, w)),
                    Map.of("format", "pt"));
        }
    }

    /**
     * An LDM attn2 key under diffusers' processor name: input_blocks.{3i+j+1}.1 ↔ down_blocks.i.attentions.j,
     * middle_block.1 ↔ mid_block.attentions.0, output_blocks.{3i+j}.1 ↔ up_blocks.i.attentions.j; to_k.weight ↔
     * processor.to_k_custom_diffusion.weight, to_out.0.* ↔ processor.to_out_custom_diffusion.0.*.
     */
    public static String diffusersName(String ldmKey) {
        Matcher m = LDM.matcher(ldmKey);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + ldmKey + "' is not an SD v1 cross-attention (attn2) parameter;"
                    + " a Custom Diffusion delta holds only those");
        }
        String block = switch (m.group(1)) {
            case "input_blocks" -> {
                int n = Integer.parseInt(m.group(2)) - 1;
                yield "down_blocks." + n / 3 + ".attentions." + n % 3;
            }
            case "output_blocks" -> {
                int n = Integer.parseInt(m.group(2));
                yield "up_blocks." + n / 3 + ".attentions." + n % 3;
            }
            default -> "mid_block.attentions.0";
        };
        String proj = m.group(4).equals("to_out.0") ? "to_out_custom_diffusion.0" : m.group(4) + "_custom_diffusion";
        return block + "." + m.group(3) + ".processor." + proj + "." + m.group(5);
    }

    private static Tensor host(Tensor t) {
        return Tensor.of(t.to(Device.CPU, DType.F32).toFloatArray(), t.shape());
    }
}
