package sdj.sd.clip;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TorchCheckpoint;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Reads textual-inversion and Custom Diffusion token embeddings (TRAINING-FACTS §2.7, §4.5) from a file or every
 * {@code .pt}/{@code .bin}/{@code .ckpt}/{@code .safetensors} file of a folder:
 * <ul>
 * <li>A1111 {@code .pt}: {@code {'string_to_param': {'*': [n,w]}, 'name': …}}, and {@code {'emb_params': [n,w]}}
 * (either container): the prompt word is the file name without extension, as A1111 names it;</li>
 * <li>diffusers: a dict with one tensor {@code {token: [w] or [n,w]}} ({@code learned_embeds.bin},
 * {@code <new1>.safetensors}): the prompt word is the key, as diffusers' {@code load_textual_inversion} uses it;</li>
 * <li>a plain tensor ({@code torch.save(tensor)}): the file name.</li>
 * </ul>
 */
public final class TokenEmbeddingFiles {
    private static final List<String> EXTENSIONS = List.of(".pt", ".bin", ".ckpt", ".safetensors");

    /** A prompt word and its vectors [n, width] (n > 1: a multi-vector embedding), with the file it came from. */
    public record TokenEmbedding(String token, Tensor vectors, Path source) {
    }

    private TokenEmbeddingFiles() {
    }

    /** The embeddings of a file, or of every embedding file in a folder (sorted by name). */
    public static List<TokenEmbedding> read(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            List<TokenEmbedding> out = new ArrayList<>();
            try (Stream<Path> files = Files.list(path)) {
                for (Path f : files.filter(TokenEmbeddingFiles::isEmbeddingFile).sorted().toList()) {
                    out.add(readFile(f));
                }
            }
            if (out.isEmpty()) {
                throw new IOException(path + " holds no embedding files (" + String.join(", ", EXTENSIONS) + ")");
            }
            return out;
        }
        if (!Files.isRegularFile(path)) {
            throw new IOException(path + " does not exist; pass an embedding file or a folder of them");
        }
        return List.of(readFile(path));
    }

    private static boolean isEmbeddingFile(Path f) {
        String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(f) && EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    static TokenEmbedding readFile(Path file) throws IOException {
        String stem = file.getFileName().toString();
        stem = stem.contains(".") ? stem.substring(0, stem.lastIndexOf('.')) : stem;
        if (StateDicts.formatOfContent(file) == StateDicts.Format.SAFETENSORS) {
            return fromDict(SafeTensors.open(file).tensors(), stem, file);
        }
        Object root = TorchCheckpoint.open(file).root();
        if (root instanceof Tensor t) {
            return new TokenEmbedding(stem, vectors(t, file, "the tensor"), file);
        }
        if (root instanceof Map<?, ?> m) {
            if (m.get("string_to_param") instanceof Map<?, ?> params && !params.isEmpty()
                    && params.values().iterator().next() instanceof Tensor t) {
                return new TokenEmbedding(stem, vectors(t, file, "string_to_param"), file);
            }
            Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
            m.forEach((k, v) -> {
                if (v instanceof Tensor t) {
                    tensors.put(String.valueOf(k), t);
                }
            });
            return fromDict(tensors, stem, file);
        }
        throw new IOException(file + " holds " + (root == null ? "nothing" : root.getClass().getSimpleName())
                + ", not an embedding (a tensor, {'string_to_param': …} or {token: tensor})");
    }

    private static TokenEmbedding fromDict(Map<String, Tensor> tensors, String stem, Path file) throws IOException {
        if (tensors.get("emb_params") != null) {
            return new TokenEmbedding(stem, vectors(tensors.get("emb_params"), file, "emb_params"), file);
        }
        if (tensors.size() != 1) {
            throw new IOException(file + " holds " + tensors.size() + " tensors " + tensors.keySet() + "; an embedding"
                    + " file holds one (string_to_param, emb_params or {token: tensor}); SDXL clip_l/clip_g pairs are"
                    + " not SD v1 embeddings");
        }
        Map.Entry<String, Tensor> e = tensors.entrySet().iterator().next();
        return new TokenEmbedding(e.getKey(), vectors(e.getValue(), file, e.getKey()), file);
    }

    /** [w] → [1, w]; [n, w] as it is, as float32 host copies. */
    private static Tensor vectors(Tensor t, Path file, String key) throws IOException {
        int[] s = t.shape();
        if (s.length == 1 || s.length == 2 && s[0] >= 1) {
            int w = s[s.length - 1];
            int n = s.length == 1 ? 1 : s[0];
            return Tensor.of(t.to(Device.CPU, DType.F32).toFloatArray(), n, w);
        }
        throw new IOException(file + ": '" + key + "' has shape " + Arrays.toString(s) + "; an embedding is [width] or"
                + " [vectors, width]");
    }
}
