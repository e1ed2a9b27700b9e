package sdj.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.TestData;
import sdj.sd.ModelConfigFiles;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** img2img and latent inpainting on the sd-tiny model: the mask and strength semantics. */
class Img2ImgTest {
    private static StableDiffusion sd;
    private static Tensor init;

    @BeforeAll
    static void load() throws Exception {
        ClipTokenizer tokenizer = ClipTokenizer.load(Path.of("../models/clip/bpe_simple_vocab_16e6.txt.gz"));
        sd = StableDiffusion.load(TestData.sdTiny("model.ckpt"), ModelConfigFiles.read(Path.of("../models/sd-tiny.json")),
                tokenizer);
        float[] pixels = new float[3 * 64 * 64];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) Math.sin(i * 0.37);
        }
        init = Tensor.of(pixels, 1, 3, 64, 64);
    }

    private static float[] run(double strength, Tensor mask) {
        GenerationRequest r = GenerationRequest.txt2img("a photo of a cat").withSampler("ddim", false)
                .withSize(64, 64).withSteps(4, 7.5f, 7).withImage(init, strength, mask);
        List<StableDiffusion.GeneratedImage> out = sd.generate(r, new StableDiffusion.Listener() {
            @Override
            public void onStep(int step, int total) {
            }
        });
        assertEquals(1, out.size());
        assertArrayEquals(new int[] {1, 3, 64, 64}, out.get(0).pixels().shape());
        return out.get(0).pixels().toFloatArray();
    }

    @Test
    void maskThatKeepsEverythingReproducesTheUntouchedImage() {
        // Full denoise, but every latent is pasted back: the result is the VAE round trip of the init image.
        float[] keptByMask = run(1.0, Tensor.zeros(1, 1, 8, 8));
        float[] roundTrip;
        try (var g = Autograd.noGrad()) {
            roundTrip = sd.model().vae().decode(sd.model().vae().encodeMean(init)).toFloatArray();
        }
        // the pipeline scales the latents by the scale factor and back (one rounding each) before decoding, and the
        // decoder carries that to about 1e-5 of pixels near 1.7; a mask that let the new latents through differs by far more
        assertArrayEquals(roundTrip, keptByMask, 5e-5f);
    }

    @Test
    void strengthChangesTheImageAndIsDeterministic() {
        float[] light = run(0.5, null);
        assertArrayEquals(light, run(0.5, null));
        assertFalse(Arrays.equals(light, run(0.0, null)));
        assertFalse(Arrays.equals(light, run(1.0, null)));
    }
}
