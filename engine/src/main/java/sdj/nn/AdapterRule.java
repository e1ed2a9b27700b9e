package sdj.nn;

import java.util.regex.Pattern;

/**
 * Which layers get a low-rank adapter (LoRA; LoCon for convolutions) and its hyperparameters, given to
 * the {@link ParameterStore} before the model is built ({@link ParameterStore#withAdapters}).
 *
 * <p>{@code target} is a regular expression searched ({@link java.util.regex.Matcher#find()}) in the
 * full LDM module name of every Linear and Conv2d, e.g. {@code attn2\.to_[kv]$} matches
 * {@code model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k}; anchor it with
 * {@code ^…$} for a whole-name match (PEFT's string form). The adapter adds {@code scale·up(down(x))}
 * with {@code scale = alpha / rank}: alpha = rank gives diffusers/PEFT's scale 1, kohya's default is
 * alpha 1. {@code dropout} is applied in training mode only ({@link ParameterStore#setTraining}),
 * to the adapter's input (PEFT) or to lora_down's output (kohya), as {@code dropoutSite} says. {@code seed} seeds the down-projection's init (mixed with each
 * tensor's full name) and the dropout masks.
 */
public record AdapterRule(Pattern target, int rank, float alpha, float dropout, long seed, DownInit init,
        DropoutSite dropoutSite) {

    /** Where the adapter's dropout acts (training mode only). */
    public enum DropoutSite {
        /** On the adapter's input x, before lora_down: PEFT's {@code lora_dropout} (diffusers). */
        INPUT,
        /** On lora_down's output, before lora_up: kohya's {@code network_dropout} ({@code networks/lora.py}). */
        DOWN_OUTPUT
    }

    /** A rule whose dropout acts on the adapter's input ({@link DropoutSite#INPUT}). */
    public AdapterRule(Pattern target, int rank, float alpha, float dropout, long seed, DownInit init) {
        this(target, rank, alpha, dropout, seed, init, DropoutSite.INPUT);
    }

    /** How lora_down starts; lora_up always starts at zero, so a new adapter leaves the output unchanged. */
    public enum DownInit {
        /**
         * kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in), fan_in = in·kh·kw: kohya's and PEFT's default
         * ({@code init_lora_weights=True}).
         */
        KAIMING_UNIFORM,
        /** N(0, (1/rank)²): PEFT's {@code init_lora_weights="gaussian"}, used by diffusers' DreamBooth-LoRA. */
        GAUSSIAN
    }

    public AdapterRule {
        if (rank <= 0) {
            throw new IllegalArgumentException("adapter rank must be positive, got " + rank + " for target " + target);
        }
        if (!(alpha > 0) || Float.isInfinite(alpha)) {
            throw new IllegalArgumentException("adapter alpha must be a positive number (alpha = rank gives scale 1), got "
                    + alpha + " for target " + target);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("adapter dropout must be in [0, 1), got " + dropout + " for target " + target);
        }
        if (init == null) {
            throw new IllegalArgumentException("adapter init is missing for target " + target);
        }
        if (dropoutSite == null) {
            throw new IllegalArgumentException("adapter dropout site is missing for target " + target);
        }
    }

    /** Rank {@code rank}, alpha = rank (scale 1), no dropout, seed 0, kaiming-uniform down init. */
    public static AdapterRule lora(String targetRegex, int rank) {
        return new AdapterRule(Pattern.compile(targetRegex), rank, rank, 0f, 0L, DownInit.KAIMING_UNIFORM);
    }

    public AdapterRule withAlpha(float newAlpha) {
        return new AdapterRule(target, rank, newAlpha, dropout, seed, init, dropoutSite);
    }

    public AdapterRule withDropout(float p) {
        return new AdapterRule(target, rank, alpha, p, seed, init, dropoutSite);
    }

    public AdapterRule withSeed(long newSeed) {
        return new AdapterRule(target, rank, alpha, dropout, newSeed, init, dropoutSite);
    }

    public AdapterRule withInit(DownInit newInit) {
        return new AdapterRule(target, rank, alpha, dropout, seed, newInit, dropoutSite);
    }

    public AdapterRule withDropoutSite(DropoutSite site) {
        return new AdapterRule(target, rank, alpha, dropout, seed, init, site);
    }

    /** Whether the layer named {@code moduleName} (full LDM name, no trailing dot) gets this adapter. */
    public boolean matches(String moduleName) {
        return target.matcher(moduleName).find();
    }
}
