package sdj.sd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import sdj.sd.unet.UNetModel;

/**
 * kohya sd-scripts module names ↔ LDM module paths. kohya names a module by its diffusers path with
 * every "." turned into "_", prefixed {@code lora_unet_} or {@code lora_te_}
 * ({@code lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q},
 * {@code lora_te_text_model_encoder_layers_0_self_attn_q_proj}). The way back re-joins the words that
 * are one name in diffusers (to_q, self_attn, …) and turns the other "_" into "."; UNet names built
 * from LDM paths instead ({@code lora_unet_input_blocks_1_1_proj_in}, which sd.cpp also reads) are
 * taken as they are.
 */
public final class KohyaNames {
    public static final String UNET = "lora_unet_";
    public static final String TEXT_ENCODER = "lora_te_";

    /** Diffusers path segments that contain "_" themselves (UNet and CLIP text model), longest first. */
    private static final List<String> COMPOUNDS = List.of("time_emb_proj", "final_layer_norm", "conv_norm_out",
            "down_blocks", "up_blocks", "mid_block", "transformer_blocks", "proj_in", "proj_out", "to_q", "to_k", "to_v",
            "to_out", "conv_shortcut", "self_attn", "q_proj", "k_proj", "v_proj", "out_proj", "text_model",
            "layer_norm1", "layer_norm2", "token_embedding", "position_embedding", "conv_in", "conv_out",
            "time_embedding", "linear_1", "linear_2", "input_blocks", "middle_block", "output_blocks", "in_layers",
            "out_layers", "emb_layers", "skip_connection", "time_embed");
    /** The first segments of LDM UNet paths: a kohya-style name built from LDM instead of diffusers paths. */
    private static final Set<String> LDM_ROOTS = Set.of("input_blocks", "middle_block", "output_blocks", "time_embed",
            "out");
    private static final Set<String> FIRST_WORDS = firstWords();

    private final DiffusersNames diffusers;

    public KohyaNames(DiffusersNames diffusers) {
        this.diffusers = diffusers;
    }

    /** The kohya name of an LDM module path (no {@code .weight}), or null when it is outside UNet and text encoder. */
    public String toKohya(String ldmModule) {
        String d = diffusers.toDiffusers(ldmModule);
        if (d == null) {
            return null;
        }
        if (d.startsWith(DiffusersNames.TEXT_ENCODER)) {
            return TEXT_ENCODER + d.substring(DiffusersNames.TEXT_ENCODER.length()).replace('.', '_');
        }
        return UNET + d.substring(DiffusersNames.UNET.length()).replace('.', '_');
    }

    /** The LDM module path of a kohya module name, or null when it has neither prefix or names no known block. */
    public String toLdm(String kohya) {
        if (kohya.startsWith(TEXT_ENCODER)) {
            return DiffusersNames.textEncoderToLdm(dotted(kohya.substring(TEXT_ENCODER.length())));
        }
        if (kohya.startsWith(UNET)) {
            String path = dotted(kohya.substring(UNET.length()));
            String root = path.contains(".") ? path.substring(0, path.indexOf('.')) : path;
            return LDM_ROOTS.contains(root) ? UNetModel.PREFIX + "." + path : diffusers.unetToLdm(path);
        }
        return null;
    }

    /** {@code a_b_to_q_0} → {@code a.b.to_q.0}: the "_" inside a compound stays, the others become ".". */
    static String dotted(String underscored) {
        String[] words = underscored.split("_", -1);
        List<String> segments = new ArrayList<>();
        int i = 0;
        while (i < words.length) {
            int taken = FIRST_WORDS.contains(words[i]) ? compoundAt(words, i) : 1;
            segments.add(String.join("_", Arrays.copyOfRange(words, i, i + taken)));
            i += taken;
        }
        return String.join(".", segments);
    }

    /** How many words starting at i form the longest compound there (1 when none does). */
    private static int compoundAt(String[] words, int i) {
        for (String c : COMPOUNDS) {
            String[] cw = c.split("_");
            if (i + cw.length <= words.length
                    && Arrays.equals(cw, Arrays.copyOfRange(words, i, i + cw.length))) {
                return cw.length; // COMPOUNDS lists three-word names first
            }
        }
        return 1;
    }

    private static Set<String> firstWords() {
        Set<String> s = new HashSet<>();
        COMPOUNDS.forEach(c -> s.add(c.substring(0, c.indexOf('_'))));
        return Set.copyOf(s);
    }
}
