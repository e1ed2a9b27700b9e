package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.sd.pipeline.GenerationRequest;

/** The sampler settings of generated class images: diffusers' (DreamBooth) and adobe's (Custom Diffusion). */
class ClassImagesSamplingTest {
    @Test
    void adobeDrawsWithDdimEtaOneAndScaleSix() {
        TrainConfig c = TrainConfig.defaults().with(Map.of("classPrompt", "photo of a cat", "resolution", 64));
        GenerationRequest adobe = ClassImages.request(c, 11, 2, ClassImages.Sampling.ADOBE);
        assertEquals("ddim", adobe.sampler());
        assertEquals(6f, adobe.scale());
        assertEquals(1.0, adobe.eta());
        assertEquals(50, adobe.steps());
        assertEquals("photo of a cat", adobe.prompt());
        GenerationRequest diffusers = ClassImages.request(c, 11, 2, ClassImages.Sampling.DIFFUSERS);
        assertEquals("plms", diffusers.sampler());
        assertEquals(7.5f, diffusers.scale());
        assertEquals(0.0, diffusers.eta());
    }
}
