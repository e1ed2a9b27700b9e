package sdj.train;

import java.util.Map;

/**
 * LoRA's training settings, by the names of a training reference's {@code hyperparameters} {@code lora} entry
 * (sd-tiny-train README section D): adapter rank and alpha (scale alpha/rank), the two AdamW parameter groups'
 * learning rates (UNet adapters, text-encoder adapters), betas, eps, weight decay, global gradient clipping
 * (NaN: off) and the number of optimizer updates.
 */
public record LoraHyperparameters(int rank, double alpha, double unetLr, double textEncoderLr, double beta1,
        double beta2, double eps, double weightDecay, double maxGradNorm, int steps) {

    /** From the JSON object; {@code origin} names it in errors. An absent or null max_grad_norm means no clipping. */
    public static LoraHyperparameters fromJson(Map<String, Object> lora, String origin) {
        double[] betas = JsonValues.numbers(lora, "betas", 2, origin);
        return new LoraHyperparameters((int) JsonValues.number(lora, "rank", origin),
                JsonValues.number(lora, "alpha", origin), JsonValues.number(lora, "unet_lr", origin),
                JsonValues.number(lora, "text_encoder_lr", origin), betas[0], betas[1],
                JsonValues.number(lora, "eps", origin), JsonValues.number(lora, "weight_decay", origin),
                JsonValues.optionalNumber(lora, "max_grad_norm", origin), (int) JsonValues.number(lora, "steps", origin));
    }

    /** The hyperparameters' {@code lora} entry of a training reference. */
    public static LoraHyperparameters fromReference(Map<String, Object> hyperparameters, String origin) {
        return fromJson(JsonValues.object(hyperparameters, "lora", origin), origin);
    }
}
