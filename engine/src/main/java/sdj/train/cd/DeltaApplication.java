package sdj.train.cd;

import java.util.LinkedHashMap;
import java.util.Map;
import sdj.nn.Parameter;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.clip.TokenEmbeddingInstaller;
import sdj.tensor.Tensor;

/**
 * Loads a Custom Diffusion delta into a model for sampling, as adobe's {@code sample.py --delta_ckpt}: the modifier
 * tokens join the tokenizer with the delta's embedding rows, and every weight the delta holds replaces the model's
 * (compressed ones rebuilt as W_pre + u·v from the model's own weights).
 */
public final class DeltaApplication {
    private DeltaApplication() {
    }

    public static void apply(StableDiffusionModel model, ClipTokenizer tokenizer, CustomDiffusionDelta delta,
            String origin) {
        Map<String, Parameter> handles = model.store().handles();
        Map<String, Tensor> current = new LinkedHashMap<>();
        for (String key : delta.keys()) {
            Parameter p = handles.get(key);
            if (p == null) {
                throw new IllegalArgumentException(origin + " changes '" + key + "', which this model does not have;"
                        + " was the delta trained on another model?");
            }
            current.put(key, p.tensor());
        }
        Map<String, Tensor> weights = delta.fullWeights(current);
        for (int i = 0; i < delta.tokens().size(); i++) {
            Tensor row = DeltaFileWriter.row(delta.embed(), i);
            TokenEmbeddingInstaller.install(tokenizer, model.clip(), delta.tokens().get(i), row.reshape(1, row.size(0)),
                    origin);
        }
        weights.forEach((key, w) -> {
            Parameter p = handles.get(key);
            p.set(w.to(p.tensor().device(), p.tensor().dtype()));
        });
    }
}
