package sdj.sd.vae;

import java.util.Map;
import static sdj.sd.ConfigValues.intOf;
import static sdj.sd.ConfigValues.intsOf;

/**
 * CompVis AutoencoderKL ddconfig: SD v1 uses ch 128, ch_mult [1,2,4,4], 2 res blocks, 4 latent
 * channels (double_z: the encoder emits mean and log-variance), attention only in the mid block.
 * {@code normNumGroups} is diffusers' {@code norm_num_groups}: the GroupNorm group count CompVis fixes at 32.
 * A small VAE trained from scratch on flat colours wants fewer: a group normalizes away its channels' common
 * level, so with one channel per group a flat image's colour survives only through border effects.
 */
public record VaeConfig(int inChannels, int outChannels, int ch, int[] chMult, int numResBlocks, int zChannels,
        int embedDim, boolean doubleZ, int normNumGroups) {

    public static final VaeConfig SD_V1 = new VaeConfig(3, 3, 128, new int[] {1, 2, 4, 4}, 2, 4, 4, true);

    /** CompVis's 32 groups. */
    public VaeConfig(int inChannels, int outChannels, int ch, int[] chMult, int numResBlocks, int zChannels,
            int embedDim, boolean doubleZ) {
        this(inChannels, outChannels, ch, chMult, numResBlocks, zChannels, embedDim, doubleZ, 32);
    }

    public static VaeConfig fromMap(Map<String, Object> m) {
        VaeConfig d = SD_V1;
        int z = intOf(m, "z_channels", d.zChannels);
        return new VaeConfig(intOf(m, "in_channels", d.inChannels), intOf(m, "out_ch", d.outChannels), intOf(m, "ch", d.ch),
                intsOf(m, "ch_mult", d.chMult), intOf(m, "num_res_blocks", d.numResBlocks), z,
                intOf(m, "embed_dim", z), !Boolean.FALSE.equals(m.get("double_z")),
                intOf(m, "norm_num_groups", d.normNumGroups));
    }
}
