package sdj.bench;

import java.util.List;
import java.util.regex.Pattern;
import sdj.nn.AdapterRule;
import sdj.nn.LoraAdapter;
import sdj.sd.unet.UNetModel;

/**
 * What one fine-tuning method trains in the UNet, for {@code sdj bench train}: which parameters get
 * gradients, which adapters are added, and how many samples a batch of B holds.
 */
public enum TrainMethod {
    /** Every UNet parameter; B instance + B class samples per step (prior preservation, diffusers' script). */
    DREAMBOOTH("dreambooth", "every UNet parameter"),
    /** Custom Diffusion's default "crossattn-kv" (TRAINING-FACTS §1.1): attn2.to_k/to_v of every transformer block. */
    CD("cd", "attn2.to_k/to_v weights of the transformer blocks"),
    /**
     * kohya's default UNet LoRA (TRAINING-FACTS §4.1): every Linear and 1×1 Conv of the transformers
     * (LDM's SpatialTransformer = diffusers' Transformer2DModel), rank 4, alpha 1; only the adapters train.
     */
    LORA("lora", "LoRA rank 4, alpha 1 on every Linear/1x1 Conv of the transformers, adapter weights only");

    private static final String UNET = UNetModel.PREFIX + ".";

    /** The 12 Linear/Conv children of an SD1 SpatialTransformer, as kohya's Transformer2DModel targets. */
    private static final String KOHYA_UNET_TARGETS = "^" + Pattern.quote(UNET)
            + ".*\\.(proj_in|proj_out|transformer_blocks\\.\\d+\\.(attn[12]\\.(to_q|to_k|to_v|to_out\\.0)"
            + "|ff\\.net\\.(0\\.proj|2)))$";

    private final String flag;
    private final String trains;

    TrainMethod(String flag, String trains) {
        this.flag = flag;
        this.trains = trains;
    }

    /** The name {@code --method} takes. */
    public String flag() {
        return flag;
    }

    /** In words, for the bench's header line. */
    public String trainsInWords() {
        return trains;
    }

    public static TrainMethod fromFlag(String value) {
        for (TrainMethod m : values()) {
            if (m.flag.equals(value)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown training method '" + value + "': use dreambooth, cd or lora");
    }

    /** Adapters to build with the model (none but for LoRA). */
    public List<AdapterRule> adapters() {
        return this == LORA ? List.of(AdapterRule.lora(KOHYA_UNET_TARGETS, 4).withAlpha(1f)) : List.of();
    }

    /** Whether the parameter with this full checkpoint name trains. */
    public boolean trains(String name) {
        return switch (this) {
            case DREAMBOOTH -> name.startsWith(UNET);
            case CD -> name.startsWith(UNET) && name.contains(".transformer_blocks.")
                    && (name.endsWith(".attn2.to_k.weight") || name.endsWith(".attn2.to_v.weight"));
            case LORA -> name.endsWith("." + LoraAdapter.DOWN) || name.endsWith("." + LoraAdapter.UP);
        };
    }

    /** Samples the UNet sees for a batch of {@code batch}: DreamBooth adds as many class samples. */
    public int samples(int batch) {
        return this == DREAMBOOTH ? 2 * batch : batch;
    }

    /** What "batch B" means, for the header line. */
    public String batchInWords(int batch) {
        return this == DREAMBOOTH ? "batch " + batch + " = " + batch + " instance + " + samples(batch, "class sample")
                + " (prior preservation)" : "batch " + batch + " = " + samples(batch, "sample");
    }

    static String samples(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
