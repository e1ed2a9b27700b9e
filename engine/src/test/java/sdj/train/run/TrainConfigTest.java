package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** diffusers' defaults, one sentence per bad value, and the JSON form of a TrainConfig. */
class TrainConfigTest {
    private static TrainConfig minimal() {
        return TrainConfig.defaults().with(Map.of("pretrainedModelNameOrPath", "base.ckpt", "tokenizerName", "bpe.txt.gz",
                "instanceDataDir", "dog", "instancePrompt", "a photo of sks dog"));
    }

    @Test
    void defaultsAreThoseOfTrainDreamboothPy() {
        TrainConfig c = TrainConfig.defaults();
        assertEquals(5e-6, c.learningRate());
        assertEquals(4, c.trainBatchSize());
        assertEquals(512, c.resolution());
        assertEquals(500, c.checkpointingSteps());
        assertEquals(500, c.lrWarmupSteps());
        assertEquals("constant", c.lrScheduler());
        assertEquals(1, c.lrNumCycles());
        assertEquals(1.0, c.lrPower());
        assertEquals(0.9, c.adamBeta1());
        assertEquals(0.999, c.adamBeta2());
        assertEquals(1e-2, c.adamWeightDecay());
        assertEquals(1e-8, c.adamEpsilon());
        assertEquals(1.0, c.maxGradNorm());
        assertEquals(1.0, c.priorLossWeight());
        assertEquals(100, c.numClassImages());
        assertEquals(1, c.gradientAccumulationSteps());
        assertEquals(1, c.numTrainEpochs());
        assertEquals("dreambooth-model", c.outputDir());
        assertNull(c.maxTrainSteps());
        assertNull(c.seed());
        assertNull(c.snrGamma());
        assertNull(c.checkpointsTotalLimit());
        assertEquals(List.of(), minimal().validate());
    }

    @Test
    void scaleLrMultipliesByAccumulationAndBatch() {
        TrainConfig c = minimal().with(Map.of("scaleLr", true, "gradientAccumulationSteps", 3, "trainBatchSize", 2));
        assertEquals(5e-6 * 6, c.effectiveLearningRate(), 0);
    }

    @Test
    void everyBadValueGetsItsOwnSentence() {
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("resolution", 500);
        bad.put("trainBatchSize", 0);
        bad.put("learningRate", -1.0);
        bad.put("lrScheduler", "step");
        bad.put("withPriorPreservation", true);
        bad.put("snrGamma", 0.0);
        bad.put("cacheLatents", true);
        assertEquals(List.of(
                "classDataDir is missing; give the folder of class images (prior preservation is on).",
                "classPrompt is missing; give the caption of the class images, e.g. \"a photo of dog\" (prior preservation is on).",
                "resolution 500 is not a positive multiple of 64; use 512 for SD v1 or another multiple of 64.",
                "trainBatchSize 0 is not allowed; use 1 or more.",
                "learningRate -1.0 is not a positive number; use e.g. 5e-6.",
                "lrScheduler 'step' is unknown; use one of constant, constant_with_warmup, linear, cosine,"
                        + " cosine_with_restarts, polynomial.",
                "snrGamma 0.0 is not positive; use e.g. 5.0, or leave it out for plain MSE.",
                "cacheLatents needs images that are the same every epoch; turn on centerCrop and turn off randomFlip,"
                        + " or turn cacheLatents off."), minimal().with(bad).validate());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.defaults().validated());
        assertEquals("pretrainedModelNameOrPath is missing; give the base checkpoint file."
                + " tokenizerName is missing; give CLIP's BPE merges file (bpe_simple_vocab_16e6.txt.gz)."
                + " instanceDataDir is missing; give the folder of training images."
                + " instancePrompt is missing; give the caption of the instance images, e.g. \"a photo of sks dog\".",
                e.getMessage());
    }

    @Test
    void samplingSettingsHaveDiffusersDefaultsAndRefuseZero() {
        TrainConfig c = TrainConfig.defaults();
        assertEquals(4, c.sampleBatchSize());
        assertEquals(50, c.classInferenceSteps());
        assertNull(c.validationPrompt());
        assertEquals(4, c.numValidationImages());
        assertEquals(100, c.validationSteps());
        assertEquals(25, c.validationInferenceSteps());
        TrainConfig snake = TrainConfigJson.parse("{\"sample_batch_size\": 2, \"validation_prompt\": \"a sks dog\"}", "v.json");
        assertEquals(2, snake.sampleBatchSize());
        assertEquals("a sks dog", snake.validationPrompt());
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("sampleBatchSize", 0);
        bad.put("classInferenceSteps", 0);
        bad.put("numValidationImages", 0);
        bad.put("validationSteps", 0);
        bad.put("validationInferenceSteps", 0);
        assertEquals(List.of(
                "sampleBatchSize 0 is not allowed; use 1 or more.",
                "classInferenceSteps 0 is not allowed; use 1 or more (50 is diffusers' default).",
                "numValidationImages 0 is not allowed; use 1 or more.",
                "validationSteps 0 is not allowed; use 1 or more.",
                "validationInferenceSteps 0 is not allowed; use 1 or more (25 is diffusers' default)."),
                minimal().with(bad).validate());
    }

    @Test
    void jsonRoundTripsAndAcceptsDiffusersNames() {
        TrainConfig c = minimal().with(Map.of("seed", 42L, "snrGamma", 5.0, "maxTrainSteps", 400, "centerCrop", true));
        assertEquals(c, TrainConfigJson.parse(TrainConfigJson.write(c), "test"));
        TrainConfig snake = TrainConfigJson.parse("{\"pretrained_model_name_or_path\": \"base.ckpt\","
                + " \"instance_data_dir\": \"dog\", \"max_train_steps\": 400, \"snr_gamma\": 5, \"learning_rate\": 2e-6}",
                "snake.json");
        assertEquals(400, snake.maxTrainSteps());
        assertEquals(5.0, snake.snrGamma());
        assertEquals(2e-6, snake.learningRate());
        assertEquals("dog", snake.instanceDataDir());
        assertEquals(4, snake.trainBatchSize()); // left out: the default
    }

    @Test
    void unknownNamesAndWrongTypesAreRefusedWithASentence() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> TrainConfigJson.parse("{\"max_train_step\": 4}", "run.json"));
        assertEquals("Training config run.json has an unknown setting 'max_train_step'; check its spelling against the"
                + " TrainConfig fields (e.g. maxTrainSteps or max_train_steps).", unknown.getMessage());
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                () -> TrainConfigJson.parse("{\"trainBatchSize\": 1.5}", "run.json"));
        assertEquals("Training config run.json gives trainBatchSize = 1.5; it needs a whole number.", type.getMessage());
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class,
                () -> TrainConfigJson.parse("{\"centerCrop\": null}", "run.json"));
        assertEquals("Training config run.json gives centerCrop = null; it needs true or false.", nul.getMessage());
    }
}
