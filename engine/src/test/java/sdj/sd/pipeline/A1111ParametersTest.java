package sdj.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import sdj.tensor.Tensor;

/** The "parameters" text in AUTOMATIC1111's layout; expected strings are written out by hand. */
class A1111ParametersTest {
    private static final Path CKPT = Path.of("/models/sd-v1-4.ckpt");

    @Test
    void promptThenTheSettingsLine() {
        GenerationRequest r = GenerationRequest.txt2img("a photo of a cat").withSampler("ddim", false).withSize(128, 128)
                .withSteps(10, 7.5f, 42);
        assertEquals("a photo of a cat\nSteps: 10, Sampler: DDIM, CFG scale: 7.5, Seed: 42, Size: 128x128, "
                + "Model hash: 7460a6fa, Model: sd-v1-4", A1111Parameters.of(r, 42, "7460a6fa", CKPT));
    }

    @Test
    void negativePromptKarrasWholeScaleAndTheImagesOwnSeed() {
        GenerationRequest r = new GenerationRequest("castle", "blurry", "dpmpp_2m", true, 20, 7f, 100, 512, 768, 2, 1, 0,
                null, 0.75, null);
        assertEquals("castle\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7.0, Seed: 101, "
                + "Size: 512x768, Model hash: 0123abcd, Model: my-model",
                A1111Parameters.of(r, r.seedOf(1), "0123abcd", Path.of("weights/my-model.safetensors")));
    }

    @Test
    void img2imgAddsTheDenoisingStrength() {
        GenerationRequest r = GenerationRequest.txt2img("a cat").withSize(64, 64).withSteps(30, 5.5f, 7)
                .withImage(Tensor.zeros(1, 3, 64, 64), 0.6, null);
        assertEquals("a cat\nSteps: 30, Sampler: PLMS, CFG scale: 5.5, Seed: 7, Size: 64x64, Model hash: 7460a6fa, "
                + "Model: sd-v1-4, Denoising strength: 0.6", A1111Parameters.of(r, 7, "7460a6fa", CKPT));
    }

    @Test
    void samplerNamesAreA1111s() {
        String[][] names = {{"ddim", "DDIM"}, {"plms", "PLMS"}, {"euler", "Euler"}, {"euler_a", "Euler a"},
            {"heun", "Heun"}, {"lms", "LMS"}, {"dpmpp_2m", "DPM++ 2M"}, {"ddpm", "DDPM"}};
        for (String[] n : names) {
            assertEquals(n[1], A1111Parameters.samplerName(GenerationRequest.txt2img("x").withSampler(n[0], false)));
        }
        assertEquals("Euler a Karras", A1111Parameters.samplerName(GenerationRequest.txt2img("x").withSampler("euler_a", true)));
    }
}
