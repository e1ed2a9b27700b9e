package sdj.sd.clip;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokens registered on top of the BPE vocabulary ({@code <new1>}, {@code sks}, ...), each one id, or n
 * consecutive ids for an n-vector textual-inversion embedding, counted up from the end of the vocabulary. They are found in the cleaned text before BPE, so
 * BPE never splits them. A token that begins or ends with a letter or digit only matches as a
 * whole word there ({@code sks} matches in "a sks dog" but not in "tasks").
 */
final class AddedTokens {
    private final int firstId;
    private final List<String> texts = new ArrayList<>(); // per added token, in order
    private final List<String> textOfId = new ArrayList<>(); // per id: the token's text on its first id, else ""
    private final Map<String, int[]> ids = new HashMap<>();
    private Pattern pattern;

    AddedTokens(int firstId) {
        this.firstId = firstId;
    }

    /** Ids handed out (a token of n vectors counts n). */
    int size() {
        return textOfId.size();
    }

    /**
     * Registers {@code cleanedText} (already lower case) for {@code vectors} consecutive ids and returns the first;
     * the same first id again if it is already there with as many vectors.
     */
    int add(String cleanedText, int vectors) {
        if (vectors < 1) {
            throw new IllegalArgumentException("an added token needs at least one vector, got " + vectors);
        }
        int[] existing = ids.get(cleanedText);
        if (existing != null) {
            if (existing.length != vectors) {
                throw new IllegalArgumentException("token '" + cleanedText + "' is already added with " + existing.length
                        + " vector(s); it cannot be added again with " + vectors);
            }
            return existing[0];
        }
        int[] block = new int[vectors];
        for (int i = 0; i < vectors; i++) {
            block[i] = firstId + textOfId.size();
            textOfId.add(i == 0 ? cleanedText : "");
        }
        texts.add(cleanedText);
        ids.put(cleanedText, block);
        pattern = compile(texts);
        return block[0];
    }

    /**
     * The text of an added id: the token's text on its first id, "" on the further ids of a multi-vector token, null
     * when {@code id} is not an added one.
     */
    String text(int id) {
        int index = id - firstId;
        return index >= 0 && index < textOfId.size() ? textOfId.get(index) : null;
    }

    /** A matcher over {@code text} that finds added tokens, or null when none are registered. */
    Matcher matcher(String text) {
        return pattern == null ? null : pattern.matcher(text);
    }

    /** How many ids the added token starting at {@code id} has (1 for a single id or for any other id). */
    int vectorsAt(int id) {
        String text = text(id);
        return text == null || text.isEmpty() ? 1 : ids.get(text).length;
    }

    /** The ids a matched token stands for (one, or n for an n-vector token); a copy. */
    int[] ids(String matchedText) {
        return ids.get(matchedText).clone();
    }

    private static Pattern compile(List<String> texts) {
        // Longest first, so "<new10>" wins over "<new1>" where both would match.
        List<String> ordered = new ArrayList<>(texts);
        ordered.sort(Comparator.comparingInt(String::length).reversed());
        StringBuilder regex = new StringBuilder();
        for (String t : ordered) {
            if (!regex.isEmpty()) {
                regex.append('|');
            }
            if (isWordChar(t.codePointAt(0))) {
                regex.append("(?<![\\p{L}\\p{N}])");
            }
            regex.append(Pattern.quote(t));
            if (isWordChar(t.codePointBefore(t.length()))) {
                regex.append("(?![\\p{L}\\p{N}])");
            }
        }
        return Pattern.compile(regex.toString());
    }

    private static boolean isWordChar(int codePoint) {
        return Character.isLetter(codePoint) || Character.isDigit(codePoint);
    }
}
