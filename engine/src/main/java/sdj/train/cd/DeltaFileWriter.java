package sdj.train.cd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.SafeTensors;
import sdj.io.TorchCheckpointWriter;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Writes a {@link CustomDiffusionDelta} the way the reference implementations do: adobe CompVis
 * ({@code {'state_dict': {<LDM key>: W or {'u','v'}, 'embed': [n,w]}}}, torch zip), adobe diffusers
 * ({@code {'unet': {<diffusers name>: W or {'u','v'}}, 'modifier_token': {token: [w]}}}), or the diffusers folder
 * ({@code pytorch_custom_diffusion_weights.safetensors} + one {@code <token>.safetensors} per token, metadata
 * {@code {"format":"pt"}}; it has no compressed form).
 */
public final class DeltaFileWriter {
    private final CrossAttentionKeys keys;

    public DeltaFileWriter(CrossAttentionKeys keys) {
        this.keys = keys;
    }

    /** adobe's {@code get_deltas.py} / {@code compress.py} layout. The token names are not stored (adobe: {@code <newk>}). */
    public void writeCompVis(Path path, CustomDiffusionDelta delta) throws IOException {
        Map<String, Object> sd = new LinkedHashMap<>();
        delta.weights().forEach(sd::put);
        delta.lowRank().forEach((k, low) -> sd.put(k, factors(low)));
        if (delta.embed() != null) {
            sd.put("embed", delta.embed());
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("state_dict", sd);
        TorchCheckpointWriter.write(path, root);
    }

    /** adobe's diffusers {@code delta.bin} layout (what its {@code compress.py --diffuser} writes). */
    public void writeAdobeDiffusers(Path path, CustomDiffusionDelta delta) throws IOException {
        Map<String, Object> unet = new LinkedHashMap<>();
        delta.weights().forEach((k, w) -> unet.put(parameterName(k), w));
        delta.lowRank().forEach((k, low) -> unet.put(parameterName(k), factors(low)));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("unet", unet);
        Map<String, Object> tokens = new LinkedHashMap<>();
        for (int i = 0; i < delta.tokens().size(); i++) {
            tokens.put(delta.tokens().get(i), row(delta.embed(), i));
        }
        root.put("modifier_token", tokens);
        TorchCheckpointWriter.write(path, root);
    }

    /** The diffusers {@code save_attn_procs} + {@code save_new_embed} files in {@code folder}. */
    public void writeDiffusers(Path folder, CustomDiffusionDelta delta) throws IOException {
        if (delta.compressed()) {
            throw new IllegalArgumentException("the diffusers layout has no compressed form; write the CompVis layout"
                    + " or pass the uncompressed delta");
        }
        Files.createDirectories(folder);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        delta.weights().forEach((k, w) -> {
            String name = keys.toProcessorKey(k);
            if (name == null) {
                throw new IllegalArgumentException("'" + k + "' has no diffusers processor name");
            }
            weights.put(name, w);
        });
        Map<String, String> pt = Map.of("format", "pt");
        SafeTensors.write(folder.resolve(DeltaFiles.DIFFUSERS_FILE), weights, pt);
        for (int i = 0; i < delta.tokens().size(); i++) {
            String token = delta.tokens().get(i);
            SafeTensors.write(folder.resolve(token + ".safetensors"), Map.of(token, row(delta.embed(), i)), pt);
        }
    }

    private String parameterName(String ldmKey) {
        String name = keys.toParameterName(ldmKey);
        if (name == null) {
            throw new IllegalArgumentException("'" + ldmKey + "' has no diffusers name");
        }
        return name;
    }

    private static Map<String, Object> factors(LowRankDelta low) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("u", low.u());
        m.put("v", low.v());
        return m;
    }

    /** Row i of [n, w] as its own [w] float32 tensor. */
    static Tensor row(Tensor embed, int i) {
        int w = embed.size(1);
        float[] all = embed.to(Device.CPU, DType.F32).toFloatArray();
        return Tensor.of(Arrays.copyOfRange(all, i * w, (i + 1) * w), w);
    }
}
