package sdj.sd.unet;

import java.util.Map;
import static sdj.sd.ConfigValues.intOf;
import static sdj.sd.ConfigValues.intsOf;

/**
 * The CompVis {@code UNetModel} parameters that shape the network (names as in the LDM yaml).
 * SD v1: 320 model channels, mult [1,2,4,4], 2 res blocks, attention at downsample rates 4,2,1,
 * 8 heads, transformer depth 1, context 768.
 */
public record UNetConfig(int inChannels, int outChannels, int modelChannels, int[] attentionResolutions,
        int numResBlocks, int[] channelMult, int numHeads, int numHeadChannels, int transformerDepth, int contextDim) {

    public static final UNetConfig SD_V1 = new UNetConfig(4, 4, 320, new int[] {4, 2, 1}, 2, new int[] {1, 2, 4, 4}, 8,
            -1, 1, 768);

    /** Time-embedding width: 4 × model channels. */
    public int timeEmbedDim() {
        return modelChannels * 4;
    }

    /** Heads and head size of a transformer at ch channels, as CompVis derives them. */
    public int headsAt(int ch) {
        return numHeadChannels == -1 ? numHeads : ch / numHeadChannels;
    }

    public boolean attentionAt(int downsampleRate) {
        for (int r : attentionResolutions) {
            if (r == downsampleRate) {
                return true;
            }
        }
        return false;
    }

    public static UNetConfig fromMap(Map<String, Object> m) {
        UNetConfig d = SD_V1;
        return new UNetConfig(intOf(m, "in_channels", d.inChannels), intOf(m, "out_channels", d.outChannels),
                intOf(m, "model_channels", d.modelChannels), intsOf(m, "attention_resolutions", d.attentionResolutions),
                intOf(m, "num_res_blocks", d.numResBlocks), intsOf(m, "channel_mult", d.channelMult),
                intOf(m, "num_heads", d.numHeads), intOf(m, "num_head_channels", d.numHeadChannels),
                intOf(m, "transformer_depth", d.transformerDepth), intOf(m, "context_dim", d.contextDim));
    }
}
