package sdj.train.cd;

import java.util.Map;
import java.util.TreeMap;
import sdj.train.JsonValues;

/**
 * Custom Diffusion's settings by the names of a training reference's {@code hyperparameters}
 * {@code custom_diffusion} entry: AdamW lr, betas, eps and weight decay, prior-loss weight, the number of
 * updates, clipping (NaN: off, adobe's default) and {@code new_token_init}, the vocabulary row each added
 * token id starts from (e.g. 49408 → 42170, "ktn").
 */
public record CustomDiffusionHyperparameters(double lr, double beta1, double beta2, double eps, double weightDecay,
        double priorLossWeight, int steps, double maxGradNorm, TreeMap<Integer, Integer> newTokenInit) {

    public static CustomDiffusionHyperparameters fromJson(Map<String, Object> cd, String origin) {
        double[] betas = JsonValues.numbers(cd, "betas", 2, origin);
        Map<String, Object> init = JsonValues.object(cd, "new_token_init", origin);
        TreeMap<Integer, Integer> rows = new TreeMap<>();
        init.forEach((id, row) -> {
            try {
                rows.put(Integer.parseInt(id), (int) JsonValues.number(init, id, origin));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(origin + ": 'new_token_init' keys must be token ids, found '" + id
                        + "'");
            }
        });
        return new CustomDiffusionHyperparameters(JsonValues.number(cd, "lr", origin), betas[0], betas[1],
                JsonValues.number(cd, "eps", origin), JsonValues.number(cd, "weight_decay", origin),
                JsonValues.number(cd, "prior_loss_weight", origin), (int) JsonValues.number(cd, "steps", origin),
                JsonValues.optionalNumber(cd, "max_grad_norm", origin), rows);
    }
}
