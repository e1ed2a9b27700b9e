package sdj.sd.clip;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import sdj.io.Json;

/**
 * The tables byte-level BPE needs: token string to id, id to token string, and the rank of every
 * merge (lower merges first). Token strings are in {@link ByteLevelAlphabet} characters, with
 * {@code </w>} marking the end of a word.
 */
public final class BpeVocabulary {
    /** How many merges OpenAI CLIP takes from its merges file: 49152 ids minus 256 bytes minus 2 specials. */
    public static final int CLIP_MERGE_COUNT = 49152 - 256 - 2;
    public static final String CLIP_MERGES_FILE = "bpe_simple_vocab_16e6.txt.gz";
    static final String END_OF_WORD = "</w>";

    private final Map<String, Integer> ids;
    private final String[] tokens;
    private final Map<String, Integer> mergeRanks;
    private final List<String[]> merges;

    private BpeVocabulary(Map<String, Integer> ids, List<String[]> merges) {
        this.merges = List.copyOf(merges);
        this.ids = Map.copyOf(ids);
        int maxId = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        this.tokens = new String[maxId + 1];
        ids.forEach((token, id) -> tokens[id] = token);
        this.mergeRanks = new HashMap<>(merges.size() * 2);
        for (int rank = 0; rank < merges.size(); rank++) {
            mergeRanks.putIfAbsent(pairKey(merges.get(rank)[0], merges.get(rank)[1]), rank);
        }
    }

    /**
     * Loads whichever form {@code path} is: CLIP's {@code bpe_simple_vocab_16e6.txt.gz}, a Hugging Face
     * {@code vocab.json} or {@code merges.txt} (the other file beside it), or a folder holding either
     * (also a diffusers model folder with a {@code tokenizer/} subfolder).
     */
    public static BpeVocabulary load(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path + " (no CLIP vocabulary there)");
        }
        if (Files.isDirectory(path)) {
            for (Path dir : List.of(path, path.resolve("tokenizer"))) {
                if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) {
                    return fromHuggingFace(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
                }
            }
            if (Files.isRegularFile(path.resolve(CLIP_MERGES_FILE))) {
                return fromClipMerges(path.resolve(CLIP_MERGES_FILE));
            }
            throw new IllegalArgumentException("folder " + path + " holds no CLIP vocabulary: expected vocab.json with "
                    + "merges.txt, or " + CLIP_MERGES_FILE);
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".gz")) {
            return fromClipMerges(path);
        }
        if (name.endsWith(".json")) {
            return fromHuggingFace(path, path.resolveSibling("merges.txt"));
        }
        if (name.equals("merges.txt")) {
            return fromHuggingFace(path.resolveSibling("vocab.json"), path);
        }
        throw new IllegalArgumentException(path + " is not a CLIP vocabulary: give " + CLIP_MERGES_FILE
                + ", a vocab.json with merges.txt beside it, or a folder holding them");
    }

    /**
     * OpenAI CLIP's form: a gzip text file whose first line is a version header and whose next
     * lines are merges "a b". The vocabulary is derived from them as CLIP does: the 256 byte
     * characters, the same with {@code </w>}, one token per merge, then the two special tokens.
     */
    public static BpeVocabulary fromClipMerges(Path gzFile) throws IOException {
        String text;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gzFile))) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String[] lines = text.split("\n", -1);
        if (lines.length < CLIP_MERGE_COUNT + 1) {
            throw new IllegalArgumentException(gzFile + " has " + Math.max(0, lines.length - 1) + " merges; CLIP needs "
                    + CLIP_MERGE_COUNT + " (is it " + CLIP_MERGES_FILE + "?)");
        }
        List<String[]> merges = new java.util.ArrayList<>(CLIP_MERGE_COUNT);
        for (int i = 1; i <= CLIP_MERGE_COUNT; i++) {
            merges.add(splitMerge(lines[i], gzFile, i + 1));
        }
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < 256; i++) {
            ids.put(String.valueOf(ByteLevelAlphabet.charInVocabOrder(i)), i);
            ids.put(ByteLevelAlphabet.charInVocabOrder(i) + END_OF_WORD, 256 + i);
        }
        int nextId = 512;
        for (String[] merge : merges) {
            ids.put(merge[0] + merge[1], nextId++);
        }
        ids.put(ClipTokenizer.START_OF_TEXT, nextId++);
        ids.put(ClipTokenizer.END_OF_TEXT, nextId);
        return new BpeVocabulary(ids, merges);
    }

    /** Hugging Face's form: {@code vocab.json} (token to id) and {@code merges.txt} ("#version" header, then merges). */
    public static BpeVocabulary fromHuggingFace(Path vocabJson, Path mergesTxt) throws IOException {
        for (Path p : List.of(vocabJson, mergesTxt)) {
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p + " (a Hugging Face CLIP tokenizer needs vocab.json and merges.txt side by side)");
            }
        }
        Map<String, Integer> ids = tokenIds(vocabJson);
        List<String> lines = Files.readAllLines(mergesTxt, StandardCharsets.UTF_8);
        List<String[]> merges = new java.util.ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if ((i == 0 && line.startsWith("#version")) || line.isBlank()) {
                continue;
            }
            merges.add(splitMerge(line, mergesTxt, i + 1));
        }
        for (String special : List.of(ClipTokenizer.START_OF_TEXT, ClipTokenizer.END_OF_TEXT)) {
            if (!ids.containsKey(special)) {
                throw new IllegalArgumentException(vocabJson + " has no " + special + " token; is it a CLIP vocabulary?");
            }
        }
        return new BpeVocabulary(ids, merges);
    }

    /** vocab.json: one JSON object mapping each token string to its id. */
    private static Map<String, Integer> tokenIds(Path vocabJson) throws IOException {
        Map<String, Object> json;
        try {
            json = Json.parseObject(Files.readString(vocabJson));
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException(vocabJson + " is not a token-to-id JSON object: " + e.getMessage(), e);
        }
        Map<String, Integer> ids = new LinkedHashMap<>(json.size() * 2);
        json.forEach((token, id) -> {
            if (!(id instanceof Long n) || n < 0 || n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(vocabJson + " is not a token-to-id JSON object: the id of token '"
                        + token + "' is " + Json.write(id) + ", not a whole number from 0 to " + Integer.MAX_VALUE);
            }
            ids.put(token, (int) (long) n);
        });
        return ids;
    }

    private static String[] splitMerge(String line, Path file, int lineNumber) {
        String[] parts = line.trim().split(" ");
        if (parts.length != 2) {
            throw new IllegalArgumentException(file + " line " + lineNumber + " is not a merge of two symbols: '" + line + "'");
        }
        return parts;
    }

    private static String pairKey(String first, String second) {
        // Space never occurs inside a byte-level symbol, so it separates the pair unambiguously.
        return first + ' ' + second;
    }

    /** The merge rank of {@code first second}, or {@link Integer#MAX_VALUE} when they never merge. */
    int mergeRank(String first, String second) {
        Integer rank = mergeRanks.get(pairKey(first, second));
        return rank == null ? Integer.MAX_VALUE : rank;
    }

    /** The id of a token string, or -1 when the vocabulary lacks it. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    /** The token string of an id, or null when no token has it. */
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** Number of ids: one more than the largest. */
    public int size() {
        return tokens.length;
    }

    /** Every token with its id, for writing the vocabulary out in another form. */
    Map<String, Integer> ids() {
        return ids;
    }

    /** The merges in rank order, each as {first, second}. */
    List<String[]> merges() {
        return merges;
    }
}
