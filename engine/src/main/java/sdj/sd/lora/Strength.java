package sdj.sd.lora;

import java.util.Locale;
import sdj.sd.clip.ClipTextModel;

/**
 * How strongly a LoRA file is applied: one multiplier for its text-encoder modules and one for its
 * UNet modules (A1111's {@code <lora:NAME:TE:UNET>}; usually both are the same).
 */
public record Strength(float textEncoder, float unet) {
    private static final String TEXT_ENCODER_ROOT = ClipTextModel.PREFIX.substring(0, ClipTextModel.PREFIX.indexOf('.') + 1);

    /** The same multiplier for both networks. */
    public static Strength of(float both) {
        return new Strength(both, both);
    }

    /** The multiplier for an LDM module path. */
    float forModule(String ldmModule) {
        return ldmModule.startsWith(TEXT_ENCODER_ROOT) ? textEncoder : unet;
    }

    /** "0.7", or "te 1.0, unet 0.5" when they differ. */
    @Override
    public String toString() {
        return textEncoder == unet ? Float.toString(unet)
                : String.format(Locale.ROOT, "te %s, unet %s", Float.toString(textEncoder), Float.toString(unet));
    }
}
