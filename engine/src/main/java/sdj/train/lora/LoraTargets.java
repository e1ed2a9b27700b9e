package sdj.train.lora;

import java.util.Locale;
import java.util.regex.Pattern;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.unet.UNetModel;

/**
 * Which layers a LoRA adapts, as regular expressions over full LDM module names ({@link sdj.nn.AdapterRule}).
 * {@link #KOHYA}: kohya sd-scripts' default (TRAINING-FACTS §4.1), every Linear and 1×1 conv inside a
 * transformer block (proj_in, attn1/attn2 to_q/to_k/to_v/to_out.0, ff.net.0.proj, ff.net.2, proj_out) and in
 * the text encoder self_attn q/k/v/out_proj and mlp fc1/fc2. {@link #ATTN}: diffusers/PEFT's DreamBooth-LoRA set
 * (§3.6), attention q/k/v/out only, in the UNet and in the text encoder.
 */
public enum LoraTargets {
    KOHYA("(proj_in|proj_out|transformer_blocks\\.\\d+\\.(attn[12]\\.(to_[qkv]|to_out\\.0)|ff\\.net\\.(0\\.proj|2)))",
            "(self_attn\\.(q|k|v|out)_proj|mlp\\.fc[12])"),
    ATTN("transformer_blocks\\.\\d+\\.attn[12]\\.(to_[qkv]|to_out\\.0)", "self_attn\\.(q|k|v|out)_proj");

    private final Pattern unet;
    private final Pattern textEncoder;

    LoraTargets(String unetTail, String textEncoderTail) {
        this.unet = Pattern.compile("^" + Pattern.quote(UNetModel.PREFIX + ".") + ".*\\." + unetTail + "$");
        this.textEncoder = Pattern.compile("^" + Pattern.quote(ClipTextModel.PREFIX + ".encoder.layers.") + "\\d+\\."
                + textEncoderTail + "$");
    }

    /** The UNet modules this set adapts (a whole-name match of the full LDM module name). */
    public Pattern unet() {
        return unet;
    }

    /** The text-encoder modules this set adapts (with {@code --train-text-encoder}). */
    public Pattern textEncoder() {
        return textEncoder;
    }

    /** By the name {@code --lora-targets} takes: "kohya" (the default) or "attn". */
    public static LoraTargets byName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "kohya", "default", "all" -> KOHYA;
            case "attn", "attention", "peft", "diffusers" -> ATTN;
            default -> throw new IllegalArgumentException("LoRA targets '" + name + "' are unknown; use 'kohya' (every"
                    + " Linear and 1×1 conv of the transformer blocks, and CLIP attention and MLP) or 'attn' (attention"
                    + " q/k/v/out only, diffusers' set).");
        };
    }
}
