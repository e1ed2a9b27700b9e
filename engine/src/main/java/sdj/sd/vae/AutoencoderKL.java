package sdj.sd.vae;

import sdj.nn.Conv2d;
import sdj.nn.Params;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/**
 * The SD v1 KL autoencoder under {@code first_stage_model.*}: images in [−1, 1] ↔ latents at 1/8
 * resolution. {@link #encodeMoments} returns quant_conv(encoder(x)) = [mean, logvar] along channels;
 * {@link #decode} is decoder(post_quant_conv(z)). The 0.18215 latent scale is the pipeline's job.
 */
public final class AutoencoderKL {
    public static final String PREFIX = "first_stage_model";
    public static final float SD_V1_SCALE_FACTOR = 0.18215f;

    private final String name;
    private final VaeConfig config;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;

    public AutoencoderKL(Params p, VaeConfig c) {
        this.name = p.moduleName();
        this.config = c;
        this.encoder = new Encoder(p.sub("encoder"), c);
        this.decoder = new Decoder(p.sub("decoder"), c);
        int moments = c.doubleZ() ? 2 * c.zChannels() : c.zChannels();
        this.quantConv = p.conv2d("quant_conv", moments, 2 * c.embedDim(), 1, 1, 0);
        this.postQuantConv = p.conv2d("post_quant_conv", c.embedDim(), c.zChannels(), 1, 1, 0);
    }

    public VaeConfig config() {
        return config;
    }

    /** image [B, 3, H, W] → moments [B, 2·embed, H/8, W/8] (mean then log-variance). */
    public Tensor encodeMoments(Tensor image) {
        return quantConv.forward(encoder.forward(image));
    }

    /** The mean of the latent distribution (what img2img uses; deterministic). */
    public Tensor encodeMean(Tensor image) {
        Tensor moments = encodeMoments(image);
        return moments.narrow(1, 0, config.embedDim()).contiguous();
    }

    /** latents z [B, embed, h, w] → image [B, 3, 8h, 8w] in about [−1, 1]. */
    public Tensor decode(Tensor z) {
        try (var profiled = Profiling.module(name)) {
            return decoder.forward(postQuantConv.forward(z));
        }
    }

    /**
     * {@link #decode} tile by tile ({@link VaeTiling}), returned on the host in fp32: the decoder's
     * memory is that of one tile whatever the image size. A latent that fits in one tile decodes whole,
     * exactly as {@link #decode}; otherwise tiles see only their neighbourhood (their GroupNorm statistics
     * and the mid-block attention are per tile), so the result is close to, not equal to, {@link #decode}.
     */
    public Tensor decodeTiled(Tensor z, VaeTiling tiling) {
        return TiledApply.apply(z, tiling.tileLatent(), tiling.overlapLatent(), 8, 1, this::decode);
    }

    /** {@link #encodeMean} tile by tile: tiles of {@code tiling}'s size × 8 pixels, on the host in fp32. */
    public Tensor encodeMeanTiled(Tensor image, VaeTiling tiling) {
        return TiledApply.apply(image, 8 * tiling.tileLatent(), 8 * tiling.overlapLatent(), 1, 8, this::encodeMean);
    }
}
