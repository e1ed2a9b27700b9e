package sdj.sd.clip;

import java.util.Optional;

/**
 * A prompt as the 77 ids SD v1's text encoder reads, and how many BPE tokens did not fit.
 *
 * @param ids the 77 ids: start token, at most 75 prompt tokens, end token, end-token padding
 * @param promptTokens how many tokens the whole prompt has (without start and end)
 */
public record Encoded77(int[] ids, int promptTokens) {
    /** Tokens cut from the end of the prompt because CLIP reads at most 75. */
    public int droppedTokens() {
        return Math.max(0, promptTokens - ClipTokenizer.MAX_PROMPT_TOKENS);
    }

    /** A sentence for the user when tokens were dropped, else empty. */
    public Optional<String> warning() {
        if (droppedTokens() == 0) {
            return Optional.empty();
        }
        return Optional.of("the prompt is " + promptTokens + " tokens long but CLIP reads at most "
                + ClipTokenizer.MAX_PROMPT_TOKENS + ", so the last " + droppedTokens() + " tokens were dropped"
                + " (shorten it, or use prompt chunking)");
    }
}
