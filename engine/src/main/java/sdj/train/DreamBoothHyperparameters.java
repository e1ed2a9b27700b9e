package sdj.train;

import java.util.Map;

/**
 * DreamBooth's training settings, by the names of a training reference's {@code hyperparameters}
 * {@code dreambooth} entry (diffusers' argument names): AdamW lr, betas, eps and weight decay; global
 * gradient clipping; min-SNR γ (NaN: off); prior-preservation weight; offset-noise strength (0: off);
 * the number of optimizer updates.
 */
public record DreamBoothHyperparameters(double lr, double beta1, double beta2, double eps, double weightDecay,
        double maxGradNorm, double snrGamma, double priorLossWeight, double offsetNoise, int steps) {

    /** From the JSON object; {@code origin} names it in errors. Absent max_grad_norm/snr_gamma mean off (NaN). */
    public static DreamBoothHyperparameters fromJson(Map<String, Object> db, String origin) {
        double[] betas = JsonValues.numbers(db, "betas", 2, origin);
        return new DreamBoothHyperparameters(JsonValues.number(db, "lr", origin), betas[0], betas[1],
                JsonValues.number(db, "eps", origin), JsonValues.number(db, "weight_decay", origin),
                JsonValues.optionalNumber(db, "max_grad_norm", origin), JsonValues.optionalNumber(db, "snr_gamma", origin),
                JsonValues.number(db, "prior_loss_weight", origin),
                db.get("offset_noise") == null ? 0 : JsonValues.number(db, "offset_noise", origin),
                (int) JsonValues.number(db, "steps", origin));
    }

    /** The loss for a batch of {@code instances} instance samples followed by class samples. */
    public DiffusionLoss loss(int instances) {
        return new DiffusionLoss(instances, priorLossWeight, snrGamma);
    }
}
