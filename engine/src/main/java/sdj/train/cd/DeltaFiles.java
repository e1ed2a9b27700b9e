package sdj.train.cd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TorchCheckpoint;
import sdj.sd.DiffusersNames;
import sdj.tensor.Tensor;

/**
 * Reads a Custom Diffusion delta in any layout the reference implementations write (TRAINING-FACTS §1.6, 1.7,
 * 1.9, 2.6), compressed or not:
 * <ul>
 * <li>adobe CompVis ({@code delta.ckpt}): {@code {'state_dict': {<LDM key>: W or {'u','v'}, 'embed': [n,w]}}},
 * tokens {@code <new1>…};</li>
 * <li>adobe diffusers ({@code delta.bin}): {@code {'unet': {<diffusers name>: W or {'u','v'}}, 'modifier_token':
 * {token: [w]}}};</li>
 * <li>diffusers ({@code pytorch_custom_diffusion_weights.safetensors} or {@code .bin}, or the folder holding it):
 * processor keys, tokens from the sibling files {@code <token>.safetensors}/{@code .bin} = {@code {token: [w]}}.</li>
 * </ul>
 */
public final class DeltaFiles {
    /** diffusers' {@code save_attn_procs} file name, without extension. */
    public static final String DIFFUSERS_WEIGHTS = "pytorch_custom_diffusion_weights";
    /** The file {@link DeltaFileWriter#writeDiffusers} writes the weights to. */
    public static final String DIFFUSERS_FILE = DIFFUSERS_WEIGHTS + ".safetensors";
    /** adobe's name for the CompVis layout ({@code get_deltas.py}'s output). */
    public static final String COMPVIS_FILE = "delta.ckpt";

    private final CrossAttentionKeys keys;

    public DeltaFiles(DiffusersNames names) {
        this.keys = new CrossAttentionKeys(names);
    }

    public CrossAttentionKeys keys() {
        return keys;
    }

    /** Reads {@code path}: a delta file or a diffusers output folder. */
    public CustomDiffusionDelta read(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return readDiffusersFolder(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new IOException(path + " does not exist; pass a delta.ckpt, a pytorch_custom_diffusion_weights file"
                    + " or the folder holding it");
        }
        if (StateDicts.formatOfContent(path) == StateDicts.Format.SAFETENSORS) {
            return readDiffusersWeights(SafeTensors.open(path).tensors(), path);
        }
        Object root = TorchCheckpoint.open(path).root();
        if (!(root instanceof Map<?, ?> top)) {
            throw new IOException(path + " holds no dict, so it is not a Custom Diffusion delta");
        }
        if (top.get("state_dict") instanceof Map<?, ?> sd) {
            return readCompVis(sd, path);
        }
        if (top.get("unet") instanceof Map<?, ?> unet) {
            return readAdobeDiffusers(unet, top.get("modifier_token"), path);
        }
        Map<String, Tensor> flat = new LinkedHashMap<>();
        top.forEach((k, v) -> {
            if (k instanceof String s && v instanceof Tensor t) {
                flat.put(s, t);
            }
        });
        return readDiffusersWeights(flat, path);
    }

    private CustomDiffusionDelta readCompVis(Map<?, ?> stateDict, Path path) throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        Map<String, LowRankDelta> lowRank = new LinkedHashMap<>();
        Tensor embed = null;
        for (Map.Entry<?, ?> e : stateDict.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (key.equals("embed")) {
                embed = tensor(e.getValue(), path, key);
            } else {
                put(key, e.getValue(), weights, lowRank, path);
            }
        }
        if (weights.isEmpty() && lowRank.isEmpty()) {
            throw new IOException(path + " has a 'state_dict' without attn2 weights; it is not a Custom Diffusion delta");
        }
        List<String> tokens = CustomDiffusionDelta.adobeTokens(embed == null ? 0 : embed.size(0));
        return new CustomDiffusionDelta(weights, lowRank, tokens, embed);
    }

    private CustomDiffusionDelta readAdobeDiffusers(Map<?, ?> unet, Object modifierTokens, Path path) throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        Map<String, LowRankDelta> lowRank = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : unet.entrySet()) {
            String name = String.valueOf(e.getKey());
            String key = keys.fromParameterName(name);
            if (key == null) {
                throw new IOException(path + ": 'unet' entry '" + name + "' is no UNet parameter of this model");
            }
            put(key, e.getValue(), weights, lowRank, path);
        }
        List<String> tokens = new ArrayList<>();
        List<Tensor> rows = new ArrayList<>();
        if (modifierTokens instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                tokens.add(String.valueOf(e.getKey()));
                rows.add(tensor(e.getValue(), path, "modifier_token/" + e.getKey()));
            }
        }
        return new CustomDiffusionDelta(weights, lowRank, tokens, EmbeddingRows.stack(rows, path.toString()));
    }

    private CustomDiffusionDelta readDiffusersWeights(Map<String, Tensor> tensors, Path path) throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String key = keys.fromProcessorKey(e.getKey());
            if (key == null) {
                throw new IOException(path + ": key '" + e.getKey() + "' is not a Custom Diffusion processor weight"
                        + " (…attn2.processor.to_k_custom_diffusion.weight); is this a Custom Diffusion delta?");
            }
            weights.put(key, e.getValue());
        }
        if (weights.isEmpty()) {
            throw new IOException(path + " holds no Custom Diffusion weights");
        }
        List<String> tokens = new ArrayList<>();
        List<Tensor> rows = new ArrayList<>();
        Path folder = path.toAbsolutePath().getParent();
        for (Path f : tokenFiles(folder, path)) {
            for (Map.Entry<String, Tensor> e : StateDicts.load(f).entrySet()) {
                tokens.add(e.getKey());
                rows.add(e.getValue());
            }
        }
        return new CustomDiffusionDelta(weights, Map.of(), tokens, EmbeddingRows.stack(rows, folder.toString()));
    }

    private CustomDiffusionDelta readDiffusersFolder(Path folder) throws IOException {
        for (String ext : List.of(".safetensors", ".bin")) {
            Path weights = folder.resolve(DIFFUSERS_WEIGHTS + ext);
            if (Files.isRegularFile(weights)) {
                return read(weights);
            }
        }
        throw new IOException(folder + " has no " + DIFFUSERS_WEIGHTS + ".safetensors or .bin; pass the delta file"
                + " itself");
    }

    /**
     * diffusers' {@code save_new_embed} files next to the weights: {@code <token>.safetensors} or {@code .bin}
     * holding the single key {@code <token>}; sorted by name.
     */
    static List<Path> tokenFiles(Path folder, Path weights) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                int dot = name.lastIndexOf('.');
                if (f.equals(weights.toAbsolutePath()) || dot <= 0 || !Files.isRegularFile(f)) {
                    continue;
                }
                String ext = name.substring(dot);
                if (!ext.equals(".safetensors") && !ext.equals(".bin")) {
                    continue;
                }
                String stem = name.substring(0, dot);
                if (stem.startsWith(DIFFUSERS_WEIGHTS)) {
                    continue;
                }
                Map<String, Tensor> t = StateDicts.load(f);
                if (t.size() == 1 && t.containsKey(stem)) {
                    found.add(f);
                }
            }
        }
        return found;
    }

    private static void put(String key, Object value, Map<String, Tensor> weights, Map<String, LowRankDelta> lowRank,
            Path path) throws IOException {
        if (value instanceof Tensor t) {
            weights.put(key, t);
        } else if (value instanceof Map<?, ?> m && m.get("u") instanceof Tensor u && m.get("v") instanceof Tensor v) {
            lowRank.put(key, new LowRankDelta(u, v));
        } else if (!(value instanceof Map<?, ?> m && m.isEmpty())) { // diffusers .bin: empty attn1 processor entries
            throw new IOException(path + ": entry '" + key + "' is neither a tensor nor compress.py's {'u','v'} pair");
        }
    }

    private static Tensor tensor(Object value, Path path, String key) throws IOException {
        if (value instanceof Tensor t) {
            return t;
        }
        throw new IOException(path + ": entry '" + key + "' is not a tensor");
    }
}
