package sdj.train.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import sdj.nn.AdapterRule;
import sdj.train.lora.LoraTargets;

/**
 * A LoRA run: the shared {@link TrainConfig} (data, steps, schedule, AdamW, checkpoints, validation; its
 * {@code trainTextEncoder} adds text-encoder adapters) plus what LoRA adds (TRAINING-FACTS §3.6, §4).
 *
 * @param train          the loop's settings; its learningRate is the schedule's base lr (polynomial lr0)
 * @param rank           adapter rank r ({@code --rank}, kohya's network_dim)
 * @param alpha          adapter alpha, scale alpha/r; null: alpha = rank (scale 1, diffusers/PEFT)
 * @param dropout        dropout probability on lora_down's output while training (kohya's network_dropout,
 *                       {@code --lora-dropout})
 * @param targets        which layers get adapters (kohya's default set, or diffusers' attention set)
 * @param unetLr         the UNet adapters' lr; null: train.learningRate
 * @param textEncoderLr  the text-encoder adapters' lr; null: train.learningRate (kohya's rule)
 * @param init           lora_down's initialisation (kohya/PEFT default: kaiming-uniform, a = √5)
 * @param saveFormat     "kohya" (OUT.safetensors) or "diffusers" (pytorch_lora_weights.safetensors)
 */
public record LoraConfig(TrainConfig train, int rank, Float alpha, float dropout, LoraTargets targets, Double unetLr,
        Double textEncoderLr, AdapterRule.DownInit init, String saveFormat) {
    public static final List<String> SAVE_FORMATS = List.of("kohya", "diffusers");

    /** kohya's defaults on top of {@code train}: rank 4, alpha = rank, no dropout, kohya's targets, kohya format. */
    public static LoraConfig defaults(TrainConfig train) {
        return new LoraConfig(train, 4, null, 0f, LoraTargets.KOHYA, null, null, AdapterRule.DownInit.KAIMING_UNIFORM,
                "kohya");
    }

    public LoraConfig withTrain(TrainConfig t) {
        return new LoraConfig(t, rank, alpha, dropout, targets, unetLr, textEncoderLr, init, saveFormat);
    }

    /** alpha, or the rank when none was given. */
    public float effectiveAlpha() {
        return alpha != null ? alpha : rank;
    }

    /** The UNet group's starting lr (×accumulation×batch with scaleLr, as the run's learning rate). */
    public double effectiveUnetLr() {
        return scaled(unetLr);
    }

    /** The text-encoder group's starting lr. */
    public double effectiveTextEncoderLr() {
        return scaled(textEncoderLr);
    }

    private double scaled(Double lr) {
        double factor = train.effectiveLearningRate() / train.learningRate();
        return (lr != null ? lr : train.learningRate()) * factor;
    }

    /** The adapter rules: the UNet targets, and with trainTextEncoder the text-encoder targets; seeded by {@code seed}. */
    public List<AdapterRule> rules(long seed) {
        List<AdapterRule> rules = new ArrayList<>();
        AdapterRule.DropoutSite kohya = AdapterRule.DropoutSite.DOWN_OUTPUT;
        rules.add(new AdapterRule(targets.unet(), rank, effectiveAlpha(), dropout, seed, init, kohya));
        if (train.trainTextEncoder()) {
            rules.add(new AdapterRule(targets.textEncoder(), rank, effectiveAlpha(), dropout, seed, init, kohya));
        }
        return rules;
    }

    /** One sentence per bad value (the shared config's first), empty when the run can start. */
    public List<String> validate() {
        List<String> bad = new ArrayList<>(train.validate());
        check(bad, rank >= 1, "rank " + rank + " is not allowed; use 1 or more (4 to 128 are usual).");
        check(bad, alpha == null || alpha > 0 && Float.isFinite(alpha), "alpha " + alpha
                + " is not a positive number; use e.g. the rank (scale 1) or 1 (kohya's default).");
        check(bad, dropout >= 0 && dropout < 1, "loraDropout " + dropout + " is outside [0, 1); use e.g. 0 or 0.1.");
        check(bad, dropout == 0 || !train.gradientCheckpointing(), "loraDropout " + dropout + " with"
                + " gradientCheckpointing would draw another dropout mask in the recomputed forward; use one of them.");
        check(bad, unetLr == null || unetLr > 0 && Double.isFinite(unetLr), "unetLr " + unetLr
                + " is not a positive number; use e.g. 1e-4.");
        check(bad, textEncoderLr == null || textEncoderLr > 0 && Double.isFinite(textEncoderLr), "textEncoderLr "
                + textEncoderLr + " is not a positive number; use e.g. 5e-5.");
        check(bad, saveFormat != null && SAVE_FORMATS.contains(saveFormat.toLowerCase(Locale.ROOT)), "saveFormat '"
                + saveFormat + "' is unknown; use kohya or diffusers.");
        return bad;
    }

    /** Throws one IllegalArgumentException listing every problem {@link #validate()} finds. */
    public LoraConfig validated() {
        List<String> bad = validate();
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(String.join(" ", bad));
        }
        return this;
    }

    private static void check(List<String> bad, boolean ok, String sentence) {
        if (!ok) {
            bad.add(sentence);
        }
    }
}
