package sdj.sd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.sd.clip.ClipConfig;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.unet.UNetConfig;
import sdj.sd.vae.VaeConfig;

/**
 * The config files of a diffusers {@code StableDiffusionPipeline} folder, derived from our model configs (so a
 * model with other widths, as sd-tiny, gets its own sizes): {@code model_index.json}, {@code unet/config.json}
 * (UNet2DConditionModel), {@code vae/config.json} (AutoencoderKL), {@code text_encoder/config.json}
 * (transformers' CLIPTextModel) and {@code scheduler/scheduler_config.json} (PNDM with the SD v1 training
 * schedule: scaled_linear betas 0.00085..0.012 over 1000 steps, as the SD v1 diffusers repositories ship it).
 * Field names and fixed values are those of the SD v1.4 diffusers configs; each map is in the order written.
 */
public final class DiffusersConfigs {
    /** The diffusers release whose config fields these are (the oldest that reads them all). */
    static final String DIFFUSERS_VERSION = "0.14.0";

    private DiffusersConfigs() {
    }

    public static Map<String, Object> modelIndex() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "StableDiffusionPipeline");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("feature_extractor", nulls());
        m.put("requires_safety_checker", false);
        m.put("safety_checker", nulls());
        m.put("scheduler", List.of("diffusers", "PNDMScheduler"));
        m.put("text_encoder", List.of("transformers", "CLIPTextModel"));
        m.put("tokenizer", List.of("transformers", "CLIPTokenizer"));
        m.put("unet", List.of("diffusers", "UNet2DConditionModel"));
        m.put("vae", List.of("diffusers", "AutoencoderKL"));
        return m;
    }

    /** {@code sampleSize}: the latent size the model was trained at (64 for 512² images). */
    public static Map<String, Object> unet(UNetConfig c, int sampleSize) {
        int levels = c.channelMult().length;
        List<Integer> widths = new ArrayList<>();
        List<String> down = new ArrayList<>();
        List<Object> heads = new ArrayList<>();
        int rate = 1;
        List<Boolean> attention = new ArrayList<>();
        for (int i = 0; i < levels; i++) {
            int ch = c.modelChannels() * c.channelMult()[i];
            widths.add(ch);
            attention.add(c.attentionAt(rate));
            down.add(c.attentionAt(rate) ? "CrossAttnDownBlock2D" : "DownBlock2D");
            heads.add(c.headsAt(ch));
            rate *= 2;
        }
        List<String> up = new ArrayList<>();
        for (int i = levels - 1; i >= 0; i--) {
            up.add(attention.get(i) ? "CrossAttnUpBlock2D" : "UpBlock2D");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "UNet2DConditionModel");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("act_fn", "silu");
        // diffusers' SD v1 configs give the number of heads under this name; one number when every level has as many
        m.put("attention_head_dim", heads.stream().distinct().count() == 1 ? heads.get(0) : heads);
        m.put("block_out_channels", widths);
        m.put("center_input_sample", false);
        m.put("cross_attention_dim", c.contextDim());
        m.put("down_block_types", down);
        m.put("downsample_padding", 1);
        m.put("flip_sin_to_cos", true);
        m.put("freq_shift", 0);
        m.put("in_channels", c.inChannels());
        m.put("layers_per_block", c.numResBlocks());
        m.put("mid_block_scale_factor", 1);
        m.put("norm_eps", 1e-5);
        m.put("norm_num_groups", 32);
        m.put("out_channels", c.outChannels());
        m.put("sample_size", sampleSize);
        m.put("transformer_layers_per_block", c.transformerDepth());
        m.put("up_block_types", up);
        m.put("use_linear_projection", false);
        return m;
    }

    /** {@code sampleSize}: the image size (512 for SD v1); {@code scalingFactor}: the latent scale (0.18215). */
    public static Map<String, Object> vae(VaeConfig c, int sampleSize, double scalingFactor) {
        if (c.zChannels() != c.embedDim()) {
            throw new IllegalArgumentException("the VAE has z_channels " + c.zChannels() + " but embed_dim " + c.embedDim()
                    + "; diffusers' AutoencoderKL needs them equal, so this model cannot be saved as a diffusers folder.");
        }
        List<Integer> widths = new ArrayList<>();
        for (int mult : c.chMult()) {
            widths.add(c.ch() * mult);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "AutoencoderKL");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("act_fn", "silu");
        m.put("block_out_channels", widths);
        m.put("down_block_types", List.of(repeat("DownEncoderBlock2D", widths.size())));
        m.put("in_channels", c.inChannels());
        m.put("latent_channels", c.zChannels());
        m.put("layers_per_block", c.numResBlocks());
        m.put("norm_num_groups", c.normNumGroups());
        m.put("out_channels", c.outChannels());
        m.put("sample_size", sampleSize);
        m.put("scaling_factor", scalingFactor);
        m.put("up_block_types", List.of(repeat("UpDecoderBlock2D", widths.size())));
        return m;
    }

    /** transformers' CLIPTextModel config (quick-GELU, MLP 4 × width, SD v1's token ids for the specials). */
    public static Map<String, Object> textEncoder(ClipConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("CLIPTextModel"));
        m.put("attention_dropout", 0.0);
        m.put("bos_token_id", 0);
        m.put("dropout", 0.0);
        m.put("eos_token_id", 2);
        m.put("hidden_act", "quick_gelu");
        m.put("hidden_size", c.width());
        m.put("initializer_factor", 1.0);
        m.put("initializer_range", 0.02);
        m.put("intermediate_size", 4 * c.width());
        m.put("layer_norm_eps", 1e-5);
        m.put("max_position_embeddings", c.positions());
        m.put("model_type", "clip_text_model");
        m.put("num_attention_heads", c.heads());
        m.put("num_hidden_layers", c.layers());
        m.put("pad_token_id", 1);
        m.put("projection_dim", c.width());
        m.put("torch_dtype", "float32");
        m.put("vocab_size", c.vocab());
        return m;
    }

    /** PNDM as the SD v1 repositories configure it, over the LDM "linear" (diffusers "scaled_linear") schedule. */
    public static Map<String, Object> scheduler() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "PNDMScheduler");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("beta_end", 0.012);
        m.put("beta_schedule", "scaled_linear");
        m.put("beta_start", 0.00085);
        m.put("clip_sample", false);
        m.put("num_train_timesteps", 1000);
        m.put("set_alpha_to_one", false);
        m.put("skip_prk_steps", true);
        m.put("steps_offset", 1);
        m.put("trained_betas", null);
        return m;
    }

    /** transformers' CLIPTokenizer settings of SD v1 (openai/clip-vit-large-patch14). */
    public static Map<String, Object> tokenizerConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("add_prefix_space", false);
        m.put("bos_token", ClipTokenizer.START_OF_TEXT);
        m.put("do_lower_case", true);
        m.put("eos_token", ClipTokenizer.END_OF_TEXT);
        m.put("errors", "replace");
        m.put("model_max_length", ClipTokenizer.CONTEXT_LENGTH);
        m.put("pad_token", ClipTokenizer.END_OF_TEXT);
        m.put("tokenizer_class", "CLIPTokenizer");
        m.put("unk_token", ClipTokenizer.END_OF_TEXT);
        return m;
    }

    public static Map<String, Object> specialTokensMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bos_token", ClipTokenizer.START_OF_TEXT);
        m.put("eos_token", ClipTokenizer.END_OF_TEXT);
        m.put("pad_token", ClipTokenizer.END_OF_TEXT);
        m.put("unk_token", ClipTokenizer.END_OF_TEXT);
        return m;
    }

    private static List<Object> nulls() {
        List<Object> l = new ArrayList<>();
        l.add(null);
        l.add(null);
        return l;
    }

    private static String[] repeat(String s, int n) {
        String[] out = new String[n];
        java.util.Arrays.fill(out, s);
        return out;
    }
}
