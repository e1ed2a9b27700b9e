package sdj.train.cd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * adobe's {@code composenW.py} end to end: K single-concept deltas + their categories + regularization captions
 * → one delta. Delta k with an embedding contributes its last row as token {@code <newk>} (k counts all deltas,
 * as composenW's {@code count}) and the target string "&lt;newk&gt; category"; one without contributes "category".
 * The text encoder is the base one with those rows appended; features as {@link MergeFeatures}; the solve as
 * {@link ConceptMerge}. The result is in adobe's merged layout: every merged k/v weight plus the K' embed rows.
 */
public final class CustomDiffusionMerge {
    /** The merged delta, and the intermediate features and solver (for checks and reports). */
    public record Result(CustomDiffusionDelta delta, float[] cReg, MergeFeatures.Targets targets, ConceptMerge solver) {
    }

    private CustomDiffusionMerge() {
    }

    /**
     * @param base the base checkpoint's state dict (the deltas' W0 and the text encoder)
     * @param tokenizer a tokenizer without added tokens (the merge adds {@code <newk>})
     */
    public static Result merge(Map<String, Tensor> base, ModelConfigs configs, String origin, ClipTokenizer tokenizer,
            List<CustomDiffusionDelta> deltas, List<String> categories, List<String> regCaptions) {
        if (deltas.size() != categories.size() || deltas.size() < 2) {
            throw new IllegalArgumentException("the merge needs at least two deltas and one category per delta, got "
                    + deltas.size() + " deltas and categories " + categories);
        }
        List<String> keys = new ArrayList<>();
        for (String key : deltas.get(0).keys()) {
            if (CrossAttentionKeys.isKeyOrValue(key)) {
                keys.add(key); // composenW merges every attn2 to_k / to_v
            }
        }
        List<Map<String, Tensor>> fineTuned = new ArrayList<>();
        List<Tensor> embedRows = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        List<String> targetStrings = new ArrayList<>();
        int vocab = base.get(sdj.sd.clip.ClipTextModel.PREFIX + ".embeddings.token_embedding.weight").size(0);
        for (int k = 0; k < deltas.size(); k++) {
            CustomDiffusionDelta d = deltas.get(k);
            fineTuned.add(d.fullWeights(base));
            if (d.embed() != null) {
                String token = "<new" + (k + 1) + ">";
                int id = tokenizer.addToken(token);
                if (id != vocab + tokens.size()) {
                    throw new IllegalArgumentException("the tokenizer gave " + token + " id " + id + ", expected "
                            + (vocab + tokens.size()) + "; pass a tokenizer without added tokens");
                }
                tokens.add(token);
                embedRows.add(DeltaFileWriter.row(d.embed(), d.embed().size(0) - 1)); // composenW: embed[-1:]
                targetStrings.add(token + " " + categories.get(k));
            } else {
                targetStrings.add(categories.get(k));
            }
        }
        Tensor embed = EmbeddingRows.stack(embedRows, origin);
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(base, configs, origin);
        if (embed != null) {
            model.clip().addTokenRows(embed);
        }
        MergeFeatures features = new MergeFeatures(tokenizer, model.clip());
        float[] cReg = features.regularization(regCaptions);
        MergeFeatures.Targets targets = features.targets(targetStrings);
        ConceptMerge solver = new ConceptMerge(cReg, targets.rows(), targets.concept(), features.width());
        Map<String, Tensor> merged = solver.merge(keys, base, fineTuned);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        merged.forEach((k, w) -> weights.put(k, w.to(Device.CPU, DType.F32)));
        return new Result(new CustomDiffusionDelta(weights, Map.of(), tokens, embed), cReg, targets, solver);
    }
}
