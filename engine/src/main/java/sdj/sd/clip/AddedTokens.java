package sdj.sd.clip;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokens registered on top of the BPE vocabulary ({@code <new1>}, {@code sks}, ...), each a single
 * id counted up from the end of the vocabulary. They are found in the cleaned text before BPE, so
 * BPE never splits them. A token that begins or ends with a letter or digit only matches as a
 * whole word there ({@code sks} matches in "a sks dog" but not in "tasks").
 */
final class AddedTokens {
    private final int firstId;
    private final List<String> texts = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();
    private Pattern pattern;

    AddedTokens(int firstId) {
        this.firstId = firstId;
    }

    int size() {
        return texts.size();
    }

    /** Registers {@code cleanedText} (already lower case) and returns its id; the same id again if already there. */
    int add(String cleanedText) {
        Integer existing = ids.get(cleanedText);
        if (existing != null) {
            return existing;
        }
        int id = firstId + texts.size();
        texts.add(cleanedText);
        ids.put(cleanedText, id);
        pattern = compile(texts);
        return id;
    }

    /** The text of an added id, or null when {@code id} is not one. */
    String text(int id) {
        int index = id - firstId;
        return index >= 0 && index < texts.size() ? texts.get(index) : null;
    }

    /** A matcher over {@code text} that finds added tokens, or null when none are registered. */
    Matcher matcher(String text) {
        return pattern == null ? null : pattern.matcher(text);
    }

    int id(String matchedText) {
        return ids.get(matchedText);
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
