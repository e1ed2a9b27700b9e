package sdj.train.cd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The text features of adobe's merge ({@code composenW.py get_text_embedding}, README B steps 2–3): each prompt
 * is encoded alone (batch 1) and contributes its context rows 1..E inclusive, E = the first end token (start token
 * dropped, first end token kept), or rows 4..E when "photo of a" occurs in its first 15 characters.
 */
public final class MergeFeatures {
    /** composenW reads at most this many regularization captions. */
    public static final int MAX_CAPTIONS = 200;

    private final ClipTokenizer tokenizer;
    private final ClipTextModel clip;

    public MergeFeatures(ClipTokenizer tokenizer, ClipTextModel clip) {
        this.tokenizer = tokenizer;
        this.clip = clip;
    }

    public int width() {
        return clip.config().width();
    }

    /** The first context row a prompt contributes. */
    static int firstRow(String prompt) {
        return prompt.substring(0, Math.min(15, prompt.length())).contains("photo of a") ? 4 : 1;
    }

    /** The prompt's feature rows, row-major [r, width]. */
    public float[] rows(String prompt) {
        int[] ids = tokenizer.encode77(prompt);
        int end = 0;
        while (ids[end] != tokenizer.endId()) {
            end++;
        }
        long[] asLong = Arrays.stream(ids).asLongStream().toArray();
        Tensor context;
        try (var g = Autograd.noGrad()) {
            context = clip.forward(Tensor.ofLongs(asLong, 1, ids.length));
        }
        float[] all = context.to(Device.CPU, DType.F32).toFloatArray();
        int w = width();
        return Arrays.copyOfRange(all, firstRow(prompt) * w, (end + 1) * w);
    }

    /** C_reg: the rows of the first {@link #MAX_CAPTIONS} captions stacked in order. */
    public float[] regularization(List<String> captions) {
        List<float[]> parts = new ArrayList<>();
        for (String c : captions.subList(0, Math.min(MAX_CAPTIONS, captions.size()))) {
            parts.add(rows(c));
        }
        return concat(parts);
    }

    /** A target string's prompts: [s, "a photo of " + s], or "painting in the style of " + s when s contains "art". */
    static List<String> targetPrompts(String s) {
        return List.of(s, (s.contains("art") ? "painting in the style of " : "a photo of ") + s);
    }

    /** The deduplicated target rows and the concept (0-based) of each kept row. */
    public record Targets(float[] rows, int[] concept) {
        public int count() {
            return concept.length;
        }
    }

    /**
     * C_t for concept strings ("&lt;new1&gt; cat", "dog", …): the rows of each string's two prompts, concept after
     * concept, then every row that equals an earlier one exactly dropped (as composenW's removal_indices).
     */
    public Targets targets(List<String> conceptStrings) {
        int w = width();
        List<float[]> rows = new ArrayList<>();
        List<Integer> concept = new ArrayList<>();
        for (int k = 0; k < conceptStrings.size(); k++) {
            for (String prompt : targetPrompts(conceptStrings.get(k))) {
                float[] r = rows(prompt);
                for (int i = 0; i < r.length / w; i++) {
                    float[] row = Arrays.copyOfRange(r, i * w, (i + 1) * w);
                    if (rows.stream().noneMatch(earlier -> sameValues(earlier, row))) {
                        rows.add(row);
                        concept.add(k);
                    }
                }
            }
        }
        return new Targets(concat(rows), concept.stream().mapToInt(Integer::intValue).toArray());
    }

    /** composenW's test mean|a − b| == 0: every element numerically equal (so 0 equals −0). */
    private static boolean sameValues(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    private static float[] concat(List<float[]> parts) {
        int n = parts.stream().mapToInt(p -> p.length).sum();
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
