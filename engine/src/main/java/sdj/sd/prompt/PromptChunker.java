package sdj.sd.prompt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sdj.sd.clip.ClipTokenizer;

/**
 * Cuts a weighted prompt into 75-token chunks the way AUTOMATIC1111 does. When a chunk fills up
 * and a comma lies within its last {@code commaBacktrack} tokens, the tokens after that comma move
 * to the next chunk, so a phrase is not torn across two windows the encoder sees separately; an added token of n
 * vectors that does not fit in the rest of a chunk starts the next one.
 */
public final class PromptChunker {
    /** A1111's default {@code comma_padding_backtrack}. */
    public static final int COMMA_BACKTRACK = 20;
    private static final int BODY = ClipTokenizer.MAX_PROMPT_TOKENS;

    private final ClipTokenizer tokenizer;
    private final int commaId;
    private final int commaBacktrack;

    public PromptChunker(ClipTokenizer tokenizer) {
        this(tokenizer, COMMA_BACKTRACK);
    }

    /** {@code commaBacktrack} 0 turns the comma rule off. */
    public PromptChunker(ClipTokenizer tokenizer, int commaBacktrack) {
        this.tokenizer = tokenizer;
        this.commaId = tokenizer.encode(",")[0];
        this.commaBacktrack = commaBacktrack;
    }

    public WeightedTokens chunk(List<WeightedText> parsed) {
        return new Builder().build(parsed);
    }

    /** The state of one chunking pass: finished chunks and the chunk being filled. */
    private final class Builder {
        private final List<PromptChunk> chunks = new ArrayList<>();
        private List<Integer> ids = new ArrayList<>();
        private List<Float> weights = new ArrayList<>();
        private int tokenCount;
        private int lastComma = -1;

        WeightedTokens build(List<WeightedText> parsed) {
            for (WeightedText run : parsed) {
                if (run.isBreak()) {
                    finishChunk(false);
                    continue;
                }
                for (int id : tokenizer.encode(run.text())) {
                    int vectors = tokenizer.vectorsAt(id);
                    if (vectors > 1 && vectors <= BODY && !ids.isEmpty() && ids.size() + vectors > BODY) {
                        finishChunk(false); // a multi-vector embedding stays in one window (A1111's next_chunk)
                    }
                    add(id, (float) run.weight());
                }
            }
            if (!ids.isEmpty() || chunks.isEmpty()) {
                finishChunk(true);
            }
            return new WeightedTokens(List.copyOf(chunks), tokenCount);
        }

        private void add(int id, float weight) {
            if (id == commaId) {
                lastComma = ids.size();
            } else if (commaBacktrack > 0 && ids.size() == BODY && lastComma >= 0 && ids.size() - lastComma <= commaBacktrack) {
                int cut = lastComma + 1;
                List<Integer> movedIds = new ArrayList<>(ids.subList(cut, ids.size()));
                List<Float> movedWeights = new ArrayList<>(weights.subList(cut, weights.size()));
                ids.subList(cut, ids.size()).clear();
                weights.subList(cut, weights.size()).clear();
                finishChunk(false);
                ids = movedIds;
                weights = movedWeights;
            }
            if (ids.size() == BODY) {
                finishChunk(false);
            }
            ids.add(id);
            weights.add(weight);
        }

        /** Pads and frames the current chunk; A1111 counts a full window for every chunk but the last. */
        private void finishChunk(boolean last) {
            tokenCount += last ? ids.size() : BODY;
            int[] chunkIds = new int[BODY + 2];
            float[] chunkWeights = new float[BODY + 2];
            Arrays.fill(chunkIds, tokenizer.endId());
            Arrays.fill(chunkWeights, 1f);
            chunkIds[0] = tokenizer.startId();
            for (int i = 0; i < ids.size(); i++) {
                chunkIds[1 + i] = ids.get(i);
                chunkWeights[1 + i] = weights.get(i);
            }
            chunks.add(new PromptChunk(chunkIds, chunkWeights));
            ids = new ArrayList<>();
            weights = new ArrayList<>();
            lastComma = -1;
        }
    }
}
