package sdj.sd.clip;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.AtomicFile;
import sdj.io.Json;

/**
 * A CLIP vocabulary in Hugging Face's form, {@code vocab.json} (token → id, in id order) and {@code merges.txt}
 * (a {@code #version: 0.2} line, then one merge per line in rank order), as transformers' CLIPTokenizer and
 * {@link BpeVocabulary#fromHuggingFace} read it: the same tokens, ids and merges as the vocabulary it is written from.
 */
public final class HuggingFaceTokenizerFiles {
    public static final String VOCAB = "vocab.json";
    public static final String MERGES = "merges.txt";

    private HuggingFaceTokenizerFiles() {
    }

    /** Writes vocab.json and merges.txt of {@code vocabulary} into {@code folder} (which must exist). */
    public static void write(BpeVocabulary vocabulary, Path folder) throws IOException {
        Map<String, Object> ids = new LinkedHashMap<>();
        vocabulary.ids().entrySet().stream().sorted(Comparator.comparingInt(Map.Entry::getValue))
                .forEach(e -> ids.put(e.getKey(), (long) e.getValue()));
        AtomicFile.write(folder.resolve(VOCAB), Json.write(ids).getBytes(StandardCharsets.UTF_8));
        StringBuilder merges = new StringBuilder("#version: 0.2\n");
        for (String[] m : vocabulary.merges()) {
            merges.append(m[0]).append(' ').append(m[1]).append('\n');
        }
        AtomicFile.write(folder.resolve(MERGES), merges.toString().getBytes(StandardCharsets.UTF_8));
    }
}
