package sdj.train.cd;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import sdj.io.SafeTensors;
import sdj.sd.KohyaNames;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * A Custom Diffusion delta as a kohya-style LoRA file that stable-diffusion.cpp, A1111 and kohya's merge script load
 * (TRAINING-FACTS §4.5–4.7), plus one embedding file per modifier token:
 * <ul>
 * <li>low rank (default): {@code <kohya>.lora_up.weight} = u [C,r], {@code .lora_down.weight} = v [r,in] from
 * compress.py's SVD (or the delta's own factors when it is compressed), {@code .alpha} = r, so alpha/r = 1 and the
 * loader adds exactly u·v; a module whose kept rank is 0 is left out (compress.py's weight is then W_pre);</li>
 * <li>full rank: {@code <kohya>.diff} = W_ft − W_pre, which sd.cpp and A1111 add as it is.</li>
 * </ul>
 * Embeddings: {@code <token>.safetensors} = {@code {"emb_params": [1, width]}} (A1111 and ComfyUI read emb_params or a
 * one-key dict, sd.cpp every tensor whose last dimension is the width, under the file's name as the prompt word).
 */
public final class LoraExport {
    /** What was written: modules, their ranks (empty for full rank) and the embedding files. */
    public record Written(int modules, List<Integer> ranks, List<Path> embeddings) {
    }

    private LoraExport() {
    }

    public static Written write(Path out, CustomDiffusionDelta delta, Map<String, Tensor> base, KohyaNames kohya,
            boolean fullRank, double ratio) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<Integer> ranks = new ArrayList<>();
        if (fullRank) {
            delta.fullWeights(base).forEach((key, w) -> tensors.put(diffName(kohya, key), difference(w, base.get(key),
                    key)));
        } else {
            CustomDiffusionDelta low = delta.compressed() ? delta : DeltaCompression.compress(delta, base, ratio);
            low.weights().forEach((key, w) -> { // not k/v (crossattn mode q/out): kept at full rank
                tensors.put(diffName(kohya, key), difference(w, base.get(key), key));
            });
            low.lowRank().forEach((key, f) -> {
                if (f.rank() == 0) {
                    return;
                }
                String m = module(kohya, key);
                tensors.put(m + ".lora_down.weight", host(f.v()));
                tensors.put(m + ".lora_up.weight", host(f.u()));
                tensors.put(m + ".alpha", Tensor.of(new float[] {f.rank()}));
                ranks.add(f.rank());
            });
        }
        SafeTensors.write(out, tensors, metadata(ranks));
        List<Path> embeddings = new ArrayList<>();
        Path folder = out.toAbsolutePath().getParent();
        for (int i = 0; i < delta.tokens().size(); i++) {
            Path file = folder.resolve(delta.tokens().get(i) + ".safetensors");
            Tensor row = DeltaFileWriter.row(delta.embed(), i);
            SafeTensors.write(file, Map.of("emb_params", row.reshape(1, row.size(0))), Map.of());
            embeddings.add(file);
        }
        int modules = (int) tensors.keySet().stream().map(k -> k.substring(0, k.indexOf('.'))).distinct().count();
        return new Written(modules, ranks, embeddings);
    }

    /** kohya's minimal metadata; ranks that differ per module are "Dynamic", as kohya's resize_lora writes them. */
    static Map<String, String> metadata(List<Integer> ranks) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ss_network_module", "networks.lora");
        m.put("ss_base_model_version", "sd_v1");
        m.put("ss_v2", "False");
        if (!ranks.isEmpty()) {
            String dim = new TreeSet<>(ranks).size() == 1 ? Integer.toString(ranks.get(0)) : "Dynamic";
            m.put("ss_network_dim", dim);
            m.put("ss_network_alpha", dim);
        }
        return m;
    }

    /** {@code <kohya>.diff} for a weight, {@code <kohya>.diff_b} for a bias (sd.cpp's names for raw differences). */
    private static String diffName(KohyaNames kohya, String key) {
        if (key.endsWith(".bias")) {
            return module(kohya, key.substring(0, key.length() - ".bias".length()) + ".weight") + ".diff_b";
        }
        return module(kohya, key) + ".diff";
    }

    private static String module(KohyaNames kohya, String key) {
        String path = key.endsWith(".weight") ? key.substring(0, key.length() - ".weight".length()) : null;
        String name = path == null ? null : kohya.toKohya(path);
        if (name == null) {
            throw new IllegalArgumentException("'" + key + "' has no kohya LoRA name (LoRA files adapt weights only)");
        }
        return name;
    }

    private static Tensor difference(Tensor w, Tensor pre, String key) {
        if (pre == null) {
            throw new IllegalArgumentException("the base checkpoint has no '" + key + "'; use the checkpoint the delta"
                    + " was trained from");
        }
        float[] a = w.to(Device.CPU, DType.F32).toFloatArray();
        float[] b = pre.to(Device.CPU, DType.F32).toFloatArray();
        float[] d = new float[a.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = a[i] - b[i];
        }
        return Tensor.of(d, w.shape());
    }

    private static Tensor host(Tensor t) {
        return Tensor.of(t.to(Device.CPU, DType.F32).toFloatArray(), t.shape());
    }
}
