package sdj.sd.prompt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sdj.sd.clip.ClipTokenizer;

/**
 * A prompt ready for the text encoder, AUTOMATIC1111 style: emphasis weights per token and any
 * length, as a list of 77-token chunks.
 *
 * <p>How the text-encoder code uses it:
 * <ol>
 *   <li>Encode each chunk's {@code ids} separately to hidden states {@code [77, width]}.</li>
 *   <li>Call {@link #applyWeights} on each chunk's hidden states with its {@code weights}.</li>
 *   <li>Concatenate the chunks along the token axis: {@code [77 * chunks, width]} is the
 *       cross-attention context. Conditioning and unconditioning must have the same number of
 *       chunks; make them equal with {@link #padTo} (A1111 pads with empty chunks).</li>
 * </ol>
 *
 * @param chunks at least one chunk
 * @param tokenCount prompt tokens as A1111 counts them for its "N/75" display: a full 75 for
 *     every chunk but the last, plus the tokens of the last
 */
public record WeightedTokens(List<PromptChunk> chunks, int tokenCount) {
    /**
     * Parses emphasis, tokenizes and chunks {@code prompt} with A1111's defaults; LoRA tags
     * ({@code <lora:NAME:STRENGTH>}) are removed first, as A1111 does.
     */
    public static WeightedTokens of(String prompt, ClipTokenizer tokenizer) {
        return new PromptChunker(tokenizer).chunk(PromptParser.parse(LoraTags.strip(prompt)));
    }

    /** This prompt with empty chunks (start, then end tokens, weights 1) appended up to {@code count} chunks. */
    public WeightedTokens padTo(int count, ClipTokenizer tokenizer) {
        List<PromptChunk> padded = new ArrayList<>(chunks);
        while (padded.size() < count) {
            int[] ids = new int[ClipTokenizer.CONTEXT_LENGTH];
            Arrays.fill(ids, tokenizer.endId());
            ids[0] = tokenizer.startId();
            float[] weights = new float[ClipTokenizer.CONTEXT_LENGTH];
            Arrays.fill(weights, 1f);
            padded.add(new PromptChunk(ids, weights));
        }
        return new WeightedTokens(List.copyOf(padded), tokenCount);
    }

    /**
     * Emphasis on encoder output, in place: scales token {@code t}'s row of {@code hidden}
     * ({@code [tokens, width]}, row-major) by {@code weights[t]}, then scales everything so the mean
     * over all values is what it was before (A1111's "Original" emphasis: weights shift attention
     * between tokens without changing the overall magnitude). If the weighted mean is zero the
     * rescale is skipped, where A1111 would divide by zero.
     */
    public static void applyWeights(float[] hidden, int tokens, int width, float[] weights) {
        if (hidden.length != tokens * width || weights.length != tokens) {
            throw new IllegalArgumentException("applyWeights needs hidden of " + tokens + "x" + width + " = "
                    + tokens * width + " values and " + tokens + " weights; got " + hidden.length + " and " + weights.length);
        }
        double before = mean(hidden);
        for (int t = 0; t < tokens; t++) {
            float w = weights[t];
            for (int i = t * width; i < (t + 1) * width; i++) {
                hidden[i] *= w;
            }
        }
        double after = mean(hidden);
        if (after == 0) {
            return;
        }
        float rescale = (float) (before / after);
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] *= rescale;
        }
    }

    private static double mean(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum / values.length;
    }
}
