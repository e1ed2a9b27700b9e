package sdj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.io.Json;

/** Reading DreamBooth settings from a reference's hyperparameters JSON: optional parts off, bad values named. */
class DreamBoothHyperparametersTest {

    @Test
    void readsEveryFieldAndTheOptionalOnesAsOff() {
        DreamBoothHyperparameters hp = DreamBoothHyperparameters.fromJson(Json.parseObject("""
                {"lr": 2e-6, "betas": [0.8, 0.99], "eps": 1e-7, "weight_decay": 0.0, "max_grad_norm": null,
                 "snr_gamma": null, "prior_loss_weight": 0.5, "steps": 3}"""), "test.json");
        assertEquals(2e-6, hp.lr());
        assertEquals(0.8, hp.beta1());
        assertEquals(0.99, hp.beta2());
        assertEquals(1e-7, hp.eps());
        assertEquals(0.5, hp.priorLossWeight());
        assertEquals(3, hp.steps());
        assertEquals(0, hp.offsetNoise(), "no offset_noise key: off");
        assertTrue(Double.isNaN(hp.maxGradNorm()), "null max_grad_norm: no clipping");
        DiffusionLoss loss = hp.loss(3);
        assertFalse(loss.minSnr(), "null snr_gamma: plain MSE for the instances");
        assertEquals(3, loss.instances());
        assertEquals(0.5, loss.priorLossWeight());
    }

    @Test
    void aMissingValueIsNamedWithItsFile() {
        Map<String, Object> json = Json.parseObject("{\"lr\": 1e-4, \"betas\": [0.9], \"eps\": 1e-8}");
        var ex = assertThrows(IllegalArgumentException.class, () -> DreamBoothHyperparameters.fromJson(json, "ref.safetensors"));
        assertEquals("ref.safetensors: 'betas' must be a list of 2 numbers, found '[0.9]'", ex.getMessage());
    }

    @Test
    void anUnknownScheduleKindIsRefused() {
        var ex = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.fromJson(
                Json.parseObject("{\"kind\": \"cosine\", \"linear_start\": 1, \"linear_end\": 2, \"num_timesteps\": 3}"), "r"));
        assertTrue(ex.getMessage().contains("'cosine' is not supported"), ex.getMessage());
    }
}
