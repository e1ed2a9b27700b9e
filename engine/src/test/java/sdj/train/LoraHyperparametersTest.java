package sdj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.io.Json;

/** Reading a reference's LoRA settings: every field (a hidden variant may change any), no clipping as null. */
class LoraHyperparametersTest {
    @Test
    void readsEveryFieldAndANullMaxGradNormAsNoClipping() {
        LoraHyperparameters hp = LoraHyperparameters.fromReference(Json.parseObject("""
                {"lora": {"rank": 8, "alpha": 3.0, "init_std": 0.05, "unet_lr": 0.002, "text_encoder_lr": 0.0001,
                 "betas": [0.8, 0.99], "eps": 1e-7, "weight_decay": 0.1, "max_grad_norm": null, "steps": 3}}"""),
                "variant.safetensors");
        assertEquals(8, hp.rank());
        assertEquals(3.0, hp.alpha());
        assertEquals(0.002, hp.unetLr());
        assertEquals(0.0001, hp.textEncoderLr());
        assertEquals(0.8, hp.beta1());
        assertEquals(0.99, hp.beta2());
        assertEquals(1e-7, hp.eps());
        assertEquals(0.1, hp.weightDecay());
        assertTrue(Double.isNaN(hp.maxGradNorm()));
        assertEquals(3, hp.steps());
    }

    @Test
    void aMissingValueIsNamedWithItsFile() {
        Map<String, Object> json = Json.parseObject("{\"lora\": {\"rank\": 4, \"alpha\": 2.0}}");
        var ex = assertThrows(IllegalArgumentException.class, () -> LoraHyperparameters.fromReference(json, "ref.st"));
        assertEquals("ref.st: 'betas' must be a list of 2 numbers, found nothing", ex.getMessage());
        var noLora = assertThrows(IllegalArgumentException.class,
                () -> LoraHyperparameters.fromReference(Json.parseObject("{}"), "ref.st"));
        assertEquals("ref.st: 'lora' must be a JSON object, found nothing", noLora.getMessage());
    }
}
