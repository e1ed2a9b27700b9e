package sdj.train.cd;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sdj.sd.DiffusersNames;

/**
 * Custom Diffusion weight names in the three layouts: full LDM keys
 * ({@code model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight}, adobe's CompVis delta),
 * diffusers processor keys ({@code down_blocks.0.attentions.0.transformer_blocks.0.attn2.processor.to_k_custom_diffusion.weight},
 * {@code pytorch_custom_diffusion_weights.safetensors}) and diffusers parameter names without a prefix
 * ({@code down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight}, adobe's diffusers {@code delta.bin}).
 */
public final class CrossAttentionKeys {
    /** {@code .processor.to_k_custom_diffusion} → {@code .to_k}; to_out keeps its {@code .0}. */
    private static final Pattern PROCESSOR = Pattern.compile("\\.processor\\.(to_q|to_k|to_v|to_out)_custom_diffusion\\.");
    private static final Pattern PLAIN = Pattern.compile("\\.(to_q|to_k|to_v|to_out)\\.(?=(0\\.)?(weight|bias)$)");

    private final DiffusersNames names;

    public CrossAttentionKeys(DiffusersNames names) {
        this.names = names;
    }

    /** Whether an LDM key is one of compress.py's: it names a to_k or to_v weight. */
    public static boolean isKeyOrValue(String key) {
        return key.contains("to_k") || key.contains("to_v");
    }

    /** The LDM key of a diffusers processor key, or null when it is not one (e.g. an attn1 entry). */
    public String fromProcessorKey(String key) {
        Matcher m = PROCESSOR.matcher(key);
        if (!m.find()) {
            return null;
        }
        return names.unetToLdm(key.substring(0, m.start()) + "." + m.group(1) + "." + key.substring(m.end()));
    }

    /** The diffusers processor key of an LDM attn2 key, or null when the table has no such block. */
    public String toProcessorKey(String ldmKey) {
        String d = names.toDiffusers(ldmKey);
        if (d == null || !d.startsWith(DiffusersNames.UNET)) {
            return null;
        }
        d = d.substring(DiffusersNames.UNET.length());
        Matcher m = PLAIN.matcher(d);
        if (!m.find()) {
            return null;
        }
        return d.substring(0, m.start()) + ".processor." + m.group(1) + "_custom_diffusion." + d.substring(m.end());
    }

    /** The LDM key of a diffusers parameter name without a prefix, or null when the table does not know it. */
    public String fromParameterName(String key) {
        return names.unetToLdm(key);
    }

    /** The diffusers parameter name (no prefix) of an LDM key, or null. */
    public String toParameterName(String ldmKey) {
        String d = names.toDiffusers(ldmKey);
        return d == null || !d.startsWith(DiffusersNames.UNET) ? null : d.substring(DiffusersNames.UNET.length());
    }
}
