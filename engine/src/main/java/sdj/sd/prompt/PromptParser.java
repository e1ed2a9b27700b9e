package sdj.sd.prompt;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's prompt emphasis syntax: {@code (text)} multiplies attention by 1.1,
 * {@code [text]} divides it by 1.1, {@code (text:1.5)} multiplies it by 1.5, nesting multiplies;
 * {@code \(} {@code \)} {@code \[} {@code \]} are literal brackets. Brackets left open at the
 * end apply to everything after them; a stray closing bracket is plain text. {@code BREAK}
 * (upper case, a whole word) forces the next text into a new chunk.
 */
public final class PromptParser {
    private static final double ROUND_MULTIPLIER = 1.1;
    private static final double SQUARE_MULTIPLIER = 1 / 1.1;

    /**
     * One lexical piece per match: escapes, brackets, a {@code :weight)} closer, or a text run.
     * Group 1 is the weight of a {@code :weight)} closer.
     */
    private static final Pattern PIECE = Pattern.compile(
            "\\\\\\(|\\\\\\)|\\\\\\[|\\\\]|\\\\\\\\|\\\\|\\(|\\[|:\\s*([+-]?[.\\d]+)\\s*\\)|\\)|]|[^\\\\()\\[\\]:]+|:");
    private static final Pattern BREAK = Pattern.compile("\\s*\\bBREAK\\b\\s*", Pattern.DOTALL);

    private PromptParser() {
    }

    /** The prompt as runs of text with their weights; neighbouring runs of equal weight are joined. */
    public static List<WeightedText> parse(String prompt) {
        List<Run> runs = new ArrayList<>();
        Deque<Integer> openRound = new ArrayDeque<>();
        Deque<Integer> openSquare = new ArrayDeque<>();
        Matcher m = PIECE.matcher(prompt);
        while (m.find()) {
            String piece = m.group();
            Double weight = parseWeight(m.group(1));
            if (piece.startsWith("\\")) {
                runs.add(new Run(piece.substring(1), 1.0));
            } else if (piece.equals("(")) {
                openRound.push(runs.size());
            } else if (piece.equals("[")) {
                openSquare.push(runs.size());
            } else if (weight != null && !openRound.isEmpty()) {
                multiplyFrom(runs, openRound.pop(), weight);
            } else if (piece.equals(")") && !openRound.isEmpty()) {
                multiplyFrom(runs, openRound.pop(), ROUND_MULTIPLIER);
            } else if (piece.equals("]") && !openSquare.isEmpty()) {
                multiplyFrom(runs, openSquare.pop(), SQUARE_MULTIPLIER);
            } else {
                addText(runs, piece);
            }
        }
        // Unclosed brackets apply to the rest of the prompt; outermost first, as A1111 does.
        openRound.descendingIterator().forEachRemaining(start -> multiplyFrom(runs, start, ROUND_MULTIPLIER));
        openSquare.descendingIterator().forEachRemaining(start -> multiplyFrom(runs, start, SQUARE_MULTIPLIER));
        if (runs.isEmpty()) {
            runs.add(new Run("", 1.0));
        }
        return joinEqualWeights(runs);
    }

    private static Double parseWeight(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            return null; // like "(a:1.2.3)": no usable weight, so the piece stays text
        }
    }

    private static void addText(List<Run> runs, String text) {
        String[] parts = BREAK.split(text, -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                WeightedText marker = WeightedText.breakMarker();
                runs.add(new Run(marker.text(), marker.weight()));
            }
            runs.add(new Run(parts[i], 1.0));
        }
    }

    private static void multiplyFrom(List<Run> runs, int start, double multiplier) {
        for (int i = start; i < runs.size(); i++) {
            runs.get(i).weight *= multiplier;
        }
    }

    private static List<WeightedText> joinEqualWeights(List<Run> runs) {
        List<WeightedText> out = new ArrayList<>();
        StringBuilder text = new StringBuilder(runs.get(0).text);
        double weight = runs.get(0).weight;
        for (Run r : runs.subList(1, runs.size())) {
            if (r.weight == weight) {
                text.append(r.text);
            } else {
                out.add(new WeightedText(text.toString(), weight));
                text.setLength(0);
                text.append(r.text);
                weight = r.weight;
            }
        }
        out.add(new WeightedText(text.toString(), weight));
        return out;
    }

    /** A text run whose weight later brackets still change. */
    private static final class Run {
        final String text;
        double weight;

        Run(String text, double weight) {
            this.text = text;
            this.weight = weight;
        }
    }
}
