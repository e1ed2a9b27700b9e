package sdj.sd.clip;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OpenAI CLIP's tokenizer ({@code simple_tokenizer.py}): clean the text, split it into words and
 * punctuation runs, byte-level BPE each one. {@link #encode77} adds the SD v1 framing.
 *
 * <p>Encoding may run on several threads at once; {@link #addToken} must not run concurrently with it.
 */
public final class ClipTokenizer {
    public static final String START_OF_TEXT = "<|startoftext|>";
    public static final String END_OF_TEXT = "<|endoftext|>";
    /** Length of the id sequence SD v1's text encoder reads. */
    public static final int CONTEXT_LENGTH = 77;
    /** Prompt tokens that fit between the start and end tokens. */
    public static final int MAX_PROMPT_TOKENS = CONTEXT_LENGTH - 2;

    /** CLIP's word pattern; case-insensitive, though text is already lower case by then. */
    private static final Pattern WORDS = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
    private static final System.Logger LOG = System.getLogger(ClipTokenizer.class.getName());

    private final BpeVocabulary vocabulary;
    private final BytePairEncoder bpe;
    private final AddedTokens added;
    private final int startId;
    private final int endId;

    public ClipTokenizer(BpeVocabulary vocabulary) {
        this.vocabulary = vocabulary;
        this.bpe = new BytePairEncoder(vocabulary);
        this.added = new AddedTokens(vocabulary.size());
        this.startId = vocabulary.id(START_OF_TEXT);
        this.endId = vocabulary.id(END_OF_TEXT);
    }

    /** Loads a vocabulary in any form {@link BpeVocabulary#load} reads. */
    public static ClipTokenizer load(Path path) throws IOException {
        return new ClipTokenizer(BpeVocabulary.load(path));
    }

    public int startId() {
        return startId;
    }

    public int endId() {
        return endId;
    }

    /**
     * The id of a raw vocabulary entry such as "ktn" (42170, a word piece without end-of-word) or "ucd&lt;/w&gt;",
     * or -1: what Hugging Face's {@code convert_tokens_to_ids} answers (initializer tokens of Custom Diffusion).
     */
    public int vocabularyId(String token) {
        return vocabulary.id(token);
    }

    /** Ids in use: the BPE vocabulary (49408 for CLIP) plus the added tokens. */
    public int vocabSize() {
        return vocabulary.size() + added.size();
    }

    /**
     * Registers a token that must stay whole, such as {@code <new1>}, and returns its id: the next
     * id after the vocabulary and the tokens added before. Matching ignores case; adding the same
     * token twice returns the first id.
     */
    public int addToken(String token) {
        return addToken(token, 1);
    }

    /**
     * Registers a token that stands for {@code vectors} consecutive ids (an n-vector textual-inversion embedding:
     * the prompt word becomes n tokens, as A1111 and diffusers' {@code tok, tok_1, …} expand it) and returns the
     * first id. Adding the same token again with as many vectors returns the first id; with another count it is
     * an error.
     */
    public int addToken(String token, int vectors) {
        String cleaned = ClipTextCleaner.clean(token);
        if (cleaned.isEmpty()) {
            throw new IllegalArgumentException("an added token needs visible characters, got '" + token + "'");
        }
        return added.add(cleaned, vectors);
    }

    /**
     * How many consecutive ids start at {@code id}: n for the first id of an added n-vector token, else 1 (so a
     * prompt chunker can keep a multi-vector embedding in one window, as A1111 does).
     */
    public int vectorsAt(int id) {
        return added.vectorsAt(id);
    }

    /** The prompt's token ids, without start and end tokens and without any length limit. */
    public int[] encode(String text) {
        String cleaned = ClipTextCleaner.clean(text);
        IntList ids = new IntList();
        Matcher addedMatch = added.matcher(cleaned);
        int from = 0;
        while (addedMatch != null && addedMatch.find()) {
            encodeWords(cleaned.substring(from, addedMatch.start()), ids);
            ids.addAll(added.ids(addedMatch.group()));
            from = addedMatch.end();
        }
        encodeWords(cleaned.substring(from), ids);
        return ids.toArray();
    }

    private void encodeWords(String cleaned, IntList ids) {
        Matcher word = WORDS.matcher(cleaned);
        while (word.find()) {
            String w = word.group();
            if (w.equals(START_OF_TEXT) || w.equals(END_OF_TEXT)) {
                ids.add(vocabulary.id(w));
            } else {
                ids.addAll(bpe.encodeWord(ByteLevelAlphabet.encode(w)));
            }
        }
    }

    /**
     * The SD v1 framing: start token, the first 75 prompt tokens, end token, padded with the end
     * token to 77. The result tells how many tokens were dropped and has a warning to show for it.
     */
    public Encoded77 encode77WithReport(String prompt) {
        int[] body = encode(prompt);
        int kept = Math.min(body.length, MAX_PROMPT_TOKENS);
        int[] ids = new int[CONTEXT_LENGTH];
        Arrays.fill(ids, endId);
        ids[0] = startId;
        System.arraycopy(body, 0, ids, 1, kept);
        return new Encoded77(ids, body.length);
    }

    /** {@link #encode77WithReport}'s ids; a truncation warning goes to the {@link System.Logger} of this class. */
    public int[] encode77(String prompt) {
        Encoded77 encoded = encode77WithReport(prompt);
        encoded.warning().ifPresent(w -> LOG.log(System.Logger.Level.WARNING, w));
        return encoded.ids();
    }

    /** Text for ids, for debugging: word ends become spaces, special tokens show by name. */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            String addedText = added.text(id);
            if (addedText != null) { // "" on the further ids of a multi-vector token: shown once
                if (!addedText.isEmpty()) {
                    bytes.writeBytes((addedText + " ").getBytes(StandardCharsets.UTF_8));
                }
                continue;
            }
            String token = vocabulary.token(id);
            if (token == null) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (size " + vocabSize() + ")");
            }
            boolean wordEnd = token.endsWith(BpeVocabulary.END_OF_WORD);
            ByteLevelAlphabet.decodeInto(wordEnd ? token.substring(0, token.length() - BpeVocabulary.END_OF_WORD.length()) : token, bytes);
            if (wordEnd) {
                bytes.write(' ');
            }
        }
        return bytes.toString(StandardCharsets.UTF_8).strip();
    }

    /** A growable int array, to avoid boxing every id. */
    private static final class IntList {
        private int[] data = new int[16];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        void addAll(int[] vs) {
            for (int v : vs) {
                add(v);
            }
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
