package sdj.sd.prompt;

/**
 * A run of prompt text and the attention weight A1111-style brackets give it. A {@code BREAK}
 * keyword is kept as its own entry with weight -1, as A1111 marks it.
 */
public record WeightedText(String text, double weight) {
    static final String BREAK_TEXT = "BREAK";
    static final double BREAK_WEIGHT = -1;

    static WeightedText breakMarker() {
        return new WeightedText(BREAK_TEXT, BREAK_WEIGHT);
    }

    /** True for the marker of a {@code BREAK} keyword, which starts a new 75-token chunk. */
    public boolean isBreak() {
        return weight == BREAK_WEIGHT && text.equals(BREAK_TEXT);
    }
}
