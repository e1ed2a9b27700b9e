package sdj.sd;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sdj.sd.clip.ClipConfig;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;
import sdj.sd.vae.AutoencoderKL;
import sdj.sd.vae.VaeConfig;
import sdj.tensor.Tensor;

/**
 * The three network configs of one Stable Diffusion v1 model and its latent scale factor (LDM's
 * {@code scale_factor}: latents the diffusion model sees are the VAE's times this; 0.18215 for SD v1).
 */
public record ModelConfigs(UNetConfig unet, VaeConfig vae, ClipConfig clip, float scaleFactor) {
    public static final ModelConfigs SD_V1 = new ModelConfigs(UNetConfig.SD_V1, VaeConfig.SD_V1, ClipConfig.SD_V1);

    /** SD v1's scale factor. */
    public ModelConfigs(UNetConfig unet, VaeConfig vae, ClipConfig clip) {
        this(unet, vae, clip, AutoencoderKL.SD_V1_SCALE_FACTOR);
    }

    public ModelConfigs {
        if (!(scaleFactor > 0) || Float.isInfinite(scaleFactor)) {
            throw new IllegalArgumentException("scale_factor must be a positive number, not " + scaleFactor);
        }
    }

    private static final Pattern CLIP_LAYER = Pattern.compile(
            Pattern.quote(ClipTextModel.PREFIX) + "\\.encoder\\.layers\\.(\\d+)\\.");

    /**
     * Replaces the sizes the weights determine (vocabulary incl. added tokens, CLIP width and depth,
     * UNet model channels and context width, VAE base channels) by what the state dict holds; the
     * rest (head counts, multipliers) stays as configured and is checked by the loader's shape checks.
     */
    public ModelConfigs detectFrom(Map<String, Tensor> stateDict) {
        ClipConfig c = clip;
        Tensor tok = stateDict.get(ClipTextModel.PREFIX + ".embeddings.token_embedding.weight");
        if (tok != null) {
            int layers = 0;
            for (String k : stateDict.keySet()) {
                Matcher m = CLIP_LAYER.matcher(k);
                if (m.lookingAt()) {
                    layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
                }
            }
            c = new ClipConfig(tok.size(0), c.positions(), tok.size(1), layers > 0 ? layers : c.layers(), c.heads());
        }
        UNetConfig u = unet;
        Tensor convIn = stateDict.get(UNetModel.PREFIX + ".input_blocks.0.0.weight");
        Tensor toK = stateDict.get(UNetModel.PREFIX + ".input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight");
        if (convIn != null) {
            u = new UNetConfig(convIn.size(1), u.outChannels(), convIn.size(0), u.attentionResolutions(), u.numResBlocks(),
                    u.channelMult(), u.numHeads(), u.numHeadChannels(), u.transformerDepth(),
                    toK != null ? toK.size(1) : u.contextDim());
        }
        VaeConfig v = vae;
        Tensor vaeIn = stateDict.get(AutoencoderKL.PREFIX + ".encoder.conv_in.weight");
        if (vaeIn != null) {
            v = new VaeConfig(vaeIn.size(1), v.outChannels(), vaeIn.size(0), v.chMult(), v.numResBlocks(), v.zChannels(),
                    v.embedDim(), v.doubleZ(), v.normNumGroups());
        }
        return new ModelConfigs(u, v, c, scaleFactor);
    }
}
