package sdj.sd.clip;

import java.util.List;
import sdj.tensor.Tensor;

/**
 * Puts token embeddings into a tokenizer and text encoder pair: each token is added to the tokenizer with as many
 * ids as it has vectors, and its vectors become the text encoder's rows for those ids, in the same order.
 */
public final class TokenEmbeddingInstaller {
    private TokenEmbeddingInstaller() {
    }

    /** Installs the embeddings; {@code origin} names where they came from in errors. */
    public static void install(ClipTokenizer tokenizer, ClipTextModel clip, List<TokenEmbeddingFiles.TokenEmbedding> all) {
        for (TokenEmbeddingFiles.TokenEmbedding e : all) {
            install(tokenizer, clip, e.token(), e.vectors(), String.valueOf(e.source()));
        }
    }

    /** One token of {@code vectors} [n, width]. */
    public static void install(ClipTokenizer tokenizer, ClipTextModel clip, String token, Tensor vectors, String origin) {
        int width = clip.config().width();
        if (vectors.dim() != 2 || vectors.size(1) != width) {
            throw new IllegalArgumentException(origin + ": the embedding of '" + token + "' has shape "
                    + java.util.Arrays.toString(vectors.shape()) + " but this text encoder is " + width + " wide; it was"
                    + " made for another model (SD v1 embeddings are 768 wide)");
        }
        int expected = tokenizer.vocabSize();
        int rows = clip.addedTokenRows() == null ? 0 : clip.addedTokenRows().tensor().size(0);
        if (expected != clip.tokenEmbedding().size(0) + rows) {
            throw new IllegalStateException("the tokenizer has " + expected + " ids but the text encoder "
                    + (clip.tokenEmbedding().size(0) + rows) + " rows; add tokens only through this installer");
        }
        int first;
        try {
            first = tokenizer.addToken(token, vectors.size(0));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": " + e.getMessage(), e);
        }
        if (first != expected) {
            throw new IllegalArgumentException(origin + ": token '" + token + "' is already loaded (id " + first
                    + "); load each embedding once");
        }
        clip.addTokenRows(vectors);
    }
}
