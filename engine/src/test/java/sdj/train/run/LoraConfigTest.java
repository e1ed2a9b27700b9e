package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.nn.AdapterRule;
import sdj.nn.LoraAdapter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.train.lora.LoraTargets;

/** LoRA's settings: the adapter rules (targets, kohya's init, seeding) and the two groups' learning rates. */
class LoraConfigTest {
    private static final String MODEL_CONFIG = "../models/sd-tiny.json";

    private static LoraConfig lora(Map<String, Object> train, Double unetLr, Double teLr) {
        return new LoraConfig(TrainConfig.defaults().with(train), 4, null, 0f, LoraTargets.KOHYA, unetLr, teLr,
                AdapterRule.DownInit.KAIMING_UNIFORM, "kohya");
    }

    @Test
    void freshAdaptersFollowKohyasInitAndTheSeed() throws IOException {
        LoraConfig c = lora(Map.of("trainTextEncoder", true), null, null);
        StableDiffusionModel a = StableDiffusionModel.random(ModelConfigFiles.read(Path.of(MODEL_CONFIG)), 1, Device.CPU,
                DType.F32, c.rules(42));
        assertEquals(204, a.store().adapters().size());
        // ff.net.2 of a 128-channel block: in = 4·128 = 512, kaiming_uniform(a=√5) bound 1/√512
        LoraAdapter ff = a.store().adapters().get("model.diffusion_model.middle_block.1.transformer_blocks.0.ff.net.2");
        float[] down = ff.down().tensor().toFloatArray();
        double bound = 1 / Math.sqrt(512);
        double max = 0;
        for (float v : down) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max <= bound && max > 0.95 * bound, max + " vs bound " + bound);
        assertTrue(java.util.Arrays.stream(boxed(ff.up().tensor().toFloatArray())).allMatch(v -> v == 0f), "up starts at 0");
        assertEquals(1f, ff.scale(), "alpha defaults to the rank");
        StableDiffusionModel b = StableDiffusionModel.random(ModelConfigFiles.read(Path.of(MODEL_CONFIG)), 1, Device.CPU,
                DType.F32, c.rules(42));
        assertArrayEquals(down, b.store().adapters().get(ff.module()).down().tensor().toFloatArray(), "same seed, same init");
        StableDiffusionModel noTe = StableDiffusionModel.random(ModelConfigFiles.read(Path.of(MODEL_CONFIG)), 1,
                Device.CPU, DType.F32, lora(Map.of(), null, null).rules(42));
        assertEquals(192, noTe.store().adapters().size(), "text-encoder adapters only with trainTextEncoder");
    }

    @Test
    void theGroupsLearningRatesDefaultToTheRunsAndScaleWithIt() {
        LoraConfig plain = lora(Map.of("learningRate", 1e-4), null, null);
        assertEquals(1e-4, plain.effectiveUnetLr());
        assertEquals(1e-4, plain.effectiveTextEncoderLr(), "kohya: text_encoder_lr defaults to learning_rate");
        LoraConfig scaled = lora(Map.of("learningRate", 1e-4, "scaleLr", true, "trainBatchSize", 2,
                "gradientAccumulationSteps", 3), 2e-4, 5e-5);
        assertEquals(2e-4 * 6, scaled.effectiveUnetLr(), 1e-18);
        assertEquals(5e-5 * 6, scaled.effectiveTextEncoderLr(), 1e-18);
    }

    private static Float[] boxed(float[] v) {
        Float[] out = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
