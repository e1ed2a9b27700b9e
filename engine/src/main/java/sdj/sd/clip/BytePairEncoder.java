package sdj.sd.clip;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE of one word: start from its characters (the last one carrying {@code </w>}),
 * then repeatedly merge every occurrence of the adjacent pair with the lowest merge rank until no
 * adjacent pair has a rank. Results are cached per word because prompts repeat words a lot.
 */
final class BytePairEncoder {
    private final BpeVocabulary vocabulary;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BytePairEncoder(BpeVocabulary vocabulary) {
        this.vocabulary = vocabulary;
    }

    /** Token ids of a word already written in {@link ByteLevelAlphabet} characters. */
    int[] encodeWord(String alphabetWord) {
        return cache.computeIfAbsent(alphabetWord, this::toIds);
    }

    private int[] toIds(String word) {
        List<String> symbols = merge(initialSymbols(word));
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = vocabulary.id(symbols.get(i));
            if (ids[i] < 0) {
                throw new IllegalStateException("BPE produced '" + symbols.get(i) + "', which the vocabulary lacks");
            }
        }
        return ids;
    }

    private static List<String> initialSymbols(String word) {
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length() - 1; i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        symbols.add(word.charAt(word.length() - 1) + BpeVocabulary.END_OF_WORD);
        return symbols;
    }

    private List<String> merge(List<String> symbols) {
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            int best = -1;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                int rank = vocabulary.mergeRank(symbols.get(i), symbols.get(i + 1));
                if (rank < bestRank) {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            symbols = mergeAll(symbols, symbols.get(best), symbols.get(best + 1));
        }
        return symbols;
    }

    /** Joins every non-overlapping occurrence of (first, second), scanning left to right. */
    private static List<String> mergeAll(List<String> symbols, String first, String second) {
        List<String> out = new ArrayList<>(symbols.size());
        int i = 0;
        while (i < symbols.size()) {
            if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                out.add(first + second);
                i += 2;
            } else {
                out.add(symbols.get(i));
                i++;
            }
        }
        return out;
    }
}
