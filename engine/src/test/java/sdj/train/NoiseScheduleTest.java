package sdj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.tensor.Tensor;

/** The schedule, q_sample, offset noise and posterior latents against sd-tiny-train's stored inputs. */
class NoiseScheduleTest {

    @Test
    void coefficientsAreBitEqualAndQSampleMatches() throws Exception {
        Map<String, Tensor> ref = SafeTensors.open(TrainTestData.reference()).tensors();
        NoiseSchedule s = scheduleOf(TrainTestData.reference());
        long[] t = ref.get("in.t").toLongArray();
        assertArrayEquals(ref.get("in.sqrt_ac").toFloatArray(), s.sqrtAlphasCumprod(t));
        assertArrayEquals(ref.get("in.sqrt_1m_ac").toFloatArray(), s.sqrtOneMinusAlphasCumprod(t));
        float[] noisy = s.addNoise(ref.get("in.latents"), ref.get("in.noise"), t).toFloatArray();
        float[] expected = ref.get("in.noisy").toFloatArray();
        for (int i = 0; i < noisy.length; i++) {
            assertEquals(expected[i], noisy[i], 1e-6 * Math.max(1e-3, Math.abs(expected[i])), "element " + i);
        }
    }

    @Test
    void float64ScheduleIsCloseToTheCheckpointsFloat32Buffer() throws Exception {
        // model.ckpt's alphas_cumprod was made with a float32 cumprod: README says within 6.9e-07
        float[] buffer = StateDicts.load(TestData.sdTiny("model.ckpt")).get("alphas_cumprod").toFloatArray();
        NoiseSchedule s = NoiseSchedule.sdV1();
        assertEquals(buffer.length, s.timesteps());
        for (int t = 0; t < buffer.length; t++) {
            assertEquals(buffer[t], s.alphaCumprod(t), 1e-6, "t " + t);
        }
        assertEquals(1 - 0.00085, s.alphaCumprod(0), 1e-15, "ac[0] = 1 − β_0");
    }

    @Test
    void offsetNoiseAndLatentsFromStoredInputs() throws Exception {
        Map<String, Tensor> ref = SafeTensors.open(TrainTestData.reference()).tensors();
        Map<String, Object> db = hyper(TrainTestData.reference(), "dreambooth");
        float strength = ((Number) db.get("offset_noise")).floatValue();
        Tensor noise = OffsetNoise.apply(ref.get("in.noise"), ref.get("in.offset"), strength);
        assertArrayEquals(ref.get("db.noise").toFloatArray(), noise.toFloatArray(), 1e-6f);
        float scale = ((Number) Json.parseObject(SafeTensors.open(TrainTestData.reference()).metadata().get("hyperparameters"))
                .get("latent_scale_factor")).floatValue();
        // from the stored moments (the reference's own encoder output): only the sampling arithmetic differs
        float[] latents = Latents.sample(ref.get("in.moments"), ref.get("in.vae_noise"), scale).toFloatArray();
        assertArrayEquals(ref.get("in.latents").toFloatArray(), latents, 1e-6f);
    }

    @Test
    void minSnrWeightsMatchTheStoredOnes() throws Exception {
        Map<String, Tensor> ref = SafeTensors.open(TrainTestData.reference()).tensors();
        double gamma = ((Number) hyper(TrainTestData.reference(), "dreambooth").get("snr_gamma")).doubleValue();
        long[] t = ref.get("in.t").toLongArray();
        float[] w = scheduleOf(TrainTestData.reference()).minSnrWeights(new long[] {t[0], t[1]}, gamma);
        assertArrayEquals(ref.get("db.snr_weight").toFloatArray(), w, 1e-7f);
        assertTrue(w[1] < 1, "one instance timestep has snr above gamma");
    }

    @Test
    void timestepsOutsideTheScheduleAreRefused() {
        var ex = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.sdV1().sqrtAlphasCumprod(new long[] {1000}));
        assertTrue(ex.getMessage().contains("timestep 1000"), ex.getMessage());
    }

    private static NoiseSchedule scheduleOf(java.nio.file.Path reference) throws Exception {
        return NoiseSchedule.fromJson(hyper(reference, "schedule"), reference.toString());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> hyper(java.nio.file.Path reference, String key) throws Exception {
        return (Map<String, Object>) Json.parseObject(SafeTensors.open(reference).metadata().get("hyperparameters")).get(key);
    }
}
