package sdj.train.run;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.Json;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.ClipConfig;
import sdj.sd.unet.UNetConfig;
import sdj.sd.vae.VaeConfig;

/**
 * A model config as the safetensors metadata {@code sdj.sd.ModelConfigFiles#fromMetadata} reads: "unet", "vae" and
 * "clip" hold JSON objects under the model config file's (LDM yaml's) names, "scale_factor" the latent scale.
 */
public final class ModelConfigJson {
    private ModelConfigJson() {
    }

    public static Map<String, String> metadata(ModelConfigs c) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("format", "pt");
        out.put("unet", Json.write(unet(c.unet())));
        out.put("vae", Json.write(vae(c.vae())));
        out.put("clip", Json.write(clip(c.clip())));
        out.put("scale_factor", Float.toString(c.scaleFactor()));
        return out;
    }

    private static Map<String, Object> unet(UNetConfig u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("in_channels", u.inChannels());
        m.put("out_channels", u.outChannels());
        m.put("model_channels", u.modelChannels());
        m.put("attention_resolutions", list(u.attentionResolutions()));
        m.put("num_res_blocks", u.numResBlocks());
        m.put("channel_mult", list(u.channelMult()));
        m.put("num_heads", u.numHeads());
        m.put("num_head_channels", u.numHeadChannels());
        m.put("transformer_depth", u.transformerDepth());
        m.put("context_dim", u.contextDim());
        return m;
    }

    private static Map<String, Object> vae(VaeConfig v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("in_channels", v.inChannels());
        m.put("out_ch", v.outChannels());
        m.put("ch", v.ch());
        m.put("ch_mult", list(v.chMult()));
        m.put("num_res_blocks", v.numResBlocks());
        m.put("z_channels", v.zChannels());
        m.put("embed_dim", v.embedDim());
        m.put("double_z", v.doubleZ());
        m.put("norm_num_groups", v.normNumGroups());
        return m;
    }

    private static Map<String, Object> clip(ClipConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab", c.vocab());
        m.put("context", c.positions());
        m.put("width", c.width());
        m.put("layers", c.layers());
        m.put("heads", c.heads());
        return m;
    }

    private static Object list(int[] values) {
        return Arrays.stream(values).boxed().toList();
    }
}
