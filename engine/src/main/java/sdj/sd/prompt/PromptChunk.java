package sdj.sd.prompt;

/**
 * One 77-token window for the text encoder: start token, 75 prompt tokens (padded with the end
 * token), end token; {@code weights[i]} is the emphasis of {@code ids[i]} (1 for start, end and padding).
 */
public record PromptChunk(int[] ids, float[] weights) {
    public PromptChunk {
        if (ids.length != weights.length) {
            throw new IllegalArgumentException("a chunk needs one weight per id: " + ids.length + " ids, " + weights.length + " weights");
        }
    }
}
