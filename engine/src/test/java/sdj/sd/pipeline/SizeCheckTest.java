package sdj.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import sdj.sd.ModelConfigs;
import sdj.sd.unet.UNetConfig;
import sdj.sd.vae.VaeConfig;
import sdj.sd.vae.VaeTiling;
import sdj.tensor.Tensor;

/**
 * The heap estimate against counts done by hand for SD v1, and the sentences that refuse a size. Hand
 * counts at 512² (latent 64², 4096 positions at UNet level 0, b = 2 for guidance, 2 threads):
 * <ul>
 * <li>UNet skips per level-0 position: conv_in 320 + 2·320 + downsample 320/4, level 1 2·640/4 + 640/16,
 * level 2 2·1280/16 + 1280/64, level 3 2·1280/64 = 1620; × 4096 × 2 = 13,271,040 floats. Level 0's
 * transformer: 14·320·4096·2 = 36,700,160 plus 2 threads × 256 × 4096 score floats = 2,097,152.
 * Peak 52,068,352 floats; the GEGLU projection [2, 4096, 2560] is the largest tensor.
 * <li>VAE decoder: the first full-resolution ResnetBlock 256 → 128 holds max(2·256 + 128, 256 + 3·128) = 640
 * floats per pixel: 640 · 512² = 167,772,160; the largest tensor is its input [1, 256, 512, 512].
 * <li>VAE encoder: level 0's ResnetBlock 128 → 128 holds 4·128 per pixel: 134,217,728.
 * </ul>
 */
class SizeCheckTest {
    private static final long SD_V1_4_CKPT_BYTES = 4_265_380_512L;
    private static final long GIB = 1L << 30;

    @Test
    void unetEstimateMatchesTheHandCountAt512() {
        MemoryEstimate.Stage[] unet = MemoryEstimate.unet(UNetConfig.SD_V1, 64, 64, 1, 2);
        assertEquals(52_068_352L, unet[0].peakFloats());
        assertArrayEquals(new long[] {2, 4096, 2560}, unet[0].largestShape());
        assertArrayEquals(new long[] {256, 4096}, unet[1].largestShape());
        assertEquals(1L << 30, unet[1].limit());
    }

    @Test
    void vaeEstimatesMatchTheHandCountAt512() {
        MemoryEstimate.Stage decode = MemoryEstimate.decoder(VaeConfig.SD_V1, 64, 64, null, 2);
        assertEquals(167_772_160L, decode.peakFloats());
        assertArrayEquals(new long[] {1, 256, 512, 512}, decode.largestShape());
        MemoryEstimate.Stage encode = MemoryEstimate.encoder(VaeConfig.SD_V1, 512, 512);
        assertEquals(134_217_728L, encode.peakFloats());
        assertArrayEquals(new long[] {1, 128, 512, 512}, encode.largestShape());
    }

    @Test
    void tiledDecodeAt1024NeedsOneTilePlusTheBlendedImage() {
        MemoryEstimate.Stage decode = MemoryEstimate.decoder(VaeConfig.SD_V1, 128, 128, VaeTiling.DEFAULT, 2);
        // one 64² tile as at 512², plus sum (3), weights (1) and result (3) floats per output pixel
        assertEquals(167_772_160L + 7L * 1024 * 1024, decode.peakFloats());
        assertArrayEquals(new long[] {1, 256, 512, 512}, decode.largestShape());
    }

    @Test
    void txt2imgAt512NeedsTheWeightsPlusTheDecoderPeak() {
        GenerationRequest r = GenerationRequest.txt2img("x");
        long need = SizeCheck.neededBytes(MemoryEstimate.stages(ModelConfigs.SD_V1, r, null, 2), SD_V1_4_CKPT_BYTES);
        assertEquals(SD_V1_4_CKPT_BYTES + 4 * 167_772_160L, need);
        assertNull(SizeCheck.refusal(ModelConfigs.SD_V1, r, null, SD_V1_4_CKPT_BYTES, 8 * GIB, 2));
    }

    @Test
    void unaddressableSizeIsRefusedWithItsSentence() {
        GenerationRequest r = GenerationRequest.txt2img("x").withSize(65536, 65536);
        // latent 8192² = 67,108,864 positions: the GEGLU projection [2, N, 2560] has 343,597,383,680 elements; the
        // decoder peaks at 640 · 65536² floats, 10 TiB, which with the weights is 10243.97 GiB
        assertEquals("65536x65536 is too large: the UNet's feed-forward activation [2, 67108864, 2560] would hold "
                + "343597383680 elements, more than one Java array can address (2147483647), and the run would need "
                + "about 10244.0 GiB of heap (this JVM has 20.0 GiB); use a smaller --W/--H.",
                SizeCheck.refusal(ModelConfigs.SD_V1, r, null, SD_V1_4_CKPT_BYTES, 20 * GIB, 2));
    }

    @Test
    void sizeOverTheHeapIsRefusedWithTheRemedies() {
        GenerationRequest r = GenerationRequest.txt2img("x").withSize(2048, 2048);
        // decoder: 640 · 2048² floats = 10 GiB; UNet at 256² latents: (2·1620 + 9472) · 65536 floats = 3.1 GiB
        assertEquals("2048x2048 needs about 14.0 GiB of heap (4.0 GiB of weights plus 10.0 GiB at the vae decode "
                + "stage, whose largest tensor is the VAE decoder's activation [1, 256, 2048, 2048]), but this JVM has "
                + "8.0 GiB; use a smaller --W/--H or add --vae-tiling, or give Java more heap (SDJ_HEAP=15g ./sdj ..., "
                + "on a machine with that much memory).",
                SizeCheck.refusal(ModelConfigs.SD_V1, r, null, SD_V1_4_CKPT_BYTES, 8 * GIB, 2));
        // tiled, the decode needs one 512² tile: the UNet's 3.1 GiB is the peak, and it fits
        assertNull(SizeCheck.refusal(ModelConfigs.SD_V1, r, VaeTiling.DEFAULT, SD_V1_4_CKPT_BYTES, 8 * GIB, 2));
    }

    @Test
    void img2imgCountsTheEncoder() {
        GenerationRequest r = GenerationRequest.txt2img("x").withImage(Tensor.zeros(1, 3, 512, 512), 0.5, null);
        MemoryEstimate.Stage[] stages = MemoryEstimate.stages(ModelConfigs.SD_V1, r, null, 2);
        assertEquals("vae encode", stages[stages.length - 1].name());
        assertEquals(134_217_728L, stages[stages.length - 1].peakFloats());
    }
}
