package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.train.run.Progress;
import sdj.train.run.TrainConfig;

/**
 * `sdj train dreambooth` flags → TrainConfig: diffusers' argument names in kebab-case, its defaults where a flag is
 * left out, and the precedence defaults < --config FILE (JSON or YAML) < flags; bad values are one sentence.
 */
class TrainFlagsTest {
    private static final String VOCAB = "../models/clip/bpe_simple_vocab_16e6.txt.gz";

    @TempDir
    Path dir;

    @Test
    void everyFieldIsItsDiffusersNameInKebabCase() {
        // train_dreambooth.py's names (snake_case there), plus ours: model_config, random_flip, cache_latents,
        // skip_bad_images, class_inference_steps, validation_inference_steps
        List<String> expected = List.of("pretrained-model-name-or-path", "model-config", "tokenizer-name",
                "instance-data-dir", "instance-prompt", "class-data-dir", "class-prompt", "with-prior-preservation",
                "prior-loss-weight", "num-class-images", "output-dir", "seed", "resolution", "center-crop", "random-flip",
                "train-text-encoder", "train-batch-size", "num-train-epochs", "max-train-steps", "checkpointing-steps",
                "checkpoints-total-limit", "resume-from-checkpoint", "gradient-accumulation-steps",
                "gradient-checkpointing", "learning-rate", "scale-lr", "lr-scheduler", "lr-warmup-steps", "lr-num-cycles",
                "lr-power", "use-8bit-adam", "adam-beta1", "adam-beta2", "adam-weight-decay", "adam-epsilon",
                "max-grad-norm", "snr-gamma", "noise-offset", "mixed-precision", "cache-latents", "skip-bad-images",
                "sample-batch-size", "class-inference-steps", "validation-prompt", "num-validation-images", "validation-steps",
                "validation-inference-steps", "train-data-dir", "vae", "caption-dropout-rate", "use-ema", "ema-decay");
        assertEquals(expected, Arrays.stream(TrainConfig.class.getRecordComponents())
                .map(f -> TrainFlags.flagName(f.getName())).toList());
        var options = new TrainCommand().options();
        for (String flag : expected) {
            assertTrue(options.hasLongOption(flag), flag);
        }
        assertTrue(options.hasLongOption("ckpt") && options.hasLongOption("vocab") && options.hasLongOption("config")
                && options.hasLongOption("save-format"));
        Option steps = options.getOption("max-train-steps");
        assertTrue(steps.hasArg());
        assertTrue(!options.getOption("train-text-encoder").hasArg(), "booleans are switches, as store_true");
    }

    @Test
    void flagsSetTheirFieldsAndTheRestKeepDiffusersDefaults() throws Exception {
        TrainConfig c = config("dreambooth", "--ckpt", "base.ckpt", "--instance-data-dir", "dogs", "--instance-prompt",
                "a photo of sks dog", "--with-prior-preservation", "--class-prompt", "a photo of dog", "--class-data-dir",
                "class", "--num-class-images", "50", "--prior-loss-weight", "0.5", "--train-text-encoder", "--resolution",
                "512", "--train-batch-size", "1", "--learning-rate", "5e-6", "--max-train-steps", "400", "--output-dir",
                "out", "--seed", "42", "--snr-gamma", "5", "--vocab", VOCAB);
        assertEquals("base.ckpt", c.pretrainedModelNameOrPath());
        assertEquals("dogs", c.instanceDataDir());
        assertEquals("a photo of sks dog", c.instancePrompt());
        assertTrue(c.withPriorPreservation() && c.trainTextEncoder());
        assertEquals("a photo of dog", c.classPrompt());
        assertEquals("class", c.classDataDir());
        assertEquals(50, c.numClassImages());
        assertEquals(0.5, c.priorLossWeight());
        assertEquals(512, c.resolution());
        assertEquals(1, c.trainBatchSize());
        assertEquals(5e-6, c.learningRate());
        assertEquals(400, c.maxTrainSteps());
        assertEquals("out", c.outputDir());
        assertEquals(42L, c.seed());
        assertEquals(5.0, c.snrGamma());
        assertEquals(VOCAB, c.tokenizerName());
        // left out: diffusers' defaults (TRAINING-FACTS §3)
        assertEquals("constant", c.lrScheduler());
        assertEquals(500, c.lrWarmupSteps());
        assertEquals(500, c.checkpointingSteps());
        assertEquals(0.999, c.adamBeta2());
        assertEquals(1e-2, c.adamWeightDecay());
        assertEquals(1.0, c.maxGradNorm());
        assertEquals(1, c.gradientAccumulationSteps());
        assertNull(c.checkpointsTotalLimit());
        assertTrue(!c.centerCrop() && !c.gradientCheckpointing());
        assertEquals(List.of(), c.validate());
    }

    @Test
    void aJsonConfigIsOverriddenByFlags() throws Exception {
        Path json = Files.writeString(dir.resolve("train.json"), """
                {"instance_data_dir": "from-file", "learning_rate": 1e-4, "max_train_steps": 10, "center_crop": true,
                 "lrScheduler": "cosine", "resolution": 128}
                """);
        TrainConfig c = config("dreambooth", "--config", json.toString(), "--max-train-steps", "3", "--resolution", "64",
                "--vocab", VOCAB);
        assertEquals("from-file", c.instanceDataDir());
        assertEquals(1e-4, c.learningRate(), "the file's, no flag");
        assertEquals(3, c.maxTrainSteps(), "the flag's over the file's 10");
        assertEquals(64, c.resolution(), "the flag's over the file's 128");
        assertTrue(c.centerCrop());
        assertEquals("cosine", c.lrScheduler());
        assertEquals(4, c.trainBatchSize(), "in neither: the default");
    }

    @Test
    void aYamlConfigReadsLikeJson() throws Exception {
        Path yaml = Files.writeString(dir.resolve("train.yaml"), """
                # DreamBooth on the dog photos
                instance_data_dir: from-yaml
                instancePrompt: "a photo of sks dog"
                learning_rate: 2.0e-6
                max_train_steps: 10
                train_text_encoder: true
                seed: 7
                snr_gamma: null
                """);
        TrainConfig c = config("dreambooth", "--config", yaml.toString(), "--learning-rate", "3e-6", "--vocab", VOCAB);
        assertEquals("from-yaml", c.instanceDataDir());
        assertEquals("a photo of sks dog", c.instancePrompt());
        assertEquals(3e-6, c.learningRate(), "the flag's over the file's");
        assertEquals(10, c.maxTrainSteps());
        assertTrue(c.trainTextEncoder());
        assertEquals(7L, c.seed());
        assertNull(c.snrGamma());
    }

    @Test
    void badValuesAreOneSentenceAndExitStatusTwo() throws Exception {
        assertUsage("sdj train: --max-train-steps needs a whole number, got 'ten'.\n", "train", "dreambooth",
                "--max-train-steps", "ten");
        assertUsage("sdj train: --save-format must be safetensors or ckpt, got 'zip'.\n", "train", "dreambooth",
                "--vocab", VOCAB, "--save-format", "zip");
        assertUsage("sdj train: --ckpt and --pretrained-model-name-or-path are the same setting; give only one of them.\n",
                "train", "dreambooth", "--ckpt", "a.ckpt", "--pretrained-model-name-or-path", "b.ckpt");
        assertUsage("sdj train: --pretrained-model-name-or-path is missing; give the base checkpoint file."
                + " --instance-data-dir is missing; give the folder of training images. --resolution 100 is not a"
                + " positive multiple of 64; use 512 for SD v1 or another multiple of 64.\n", "train", "dreambooth",
                "--vocab", VOCAB, "--instance-prompt", "a photo of sks dog", "--resolution", "100");
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), "max_train_step: 3\n");
        assertUsage("sdj train: Training config " + yaml + " has an unknown setting 'max_train_step'; check its spelling"
                + " against the TrainConfig fields (e.g. maxTrainSteps or max_train_steps).\n", "train", "dreambooth",
                "--config", yaml.toString());
        assertUsage("sdj train: --config ../models/sd-tiny.json is a model config (the model sizes txt2img's --config"
                + " takes); pass it as --model-config ../models/sd-tiny.json, since --config of sdj train is a training"
                + " config (JSON or YAML).\n", "train", "dreambooth", "--config", "../models/sd-tiny.json");
        Path missing = dir.resolve("base.ckpt");
        assertUsage("sdj train: the base checkpoint " + missing + " does not exist; pass it with --ckpt FILE.\n", "train",
                "dreambooth", "--vocab", VOCAB, "--ckpt", missing.toString(), "--instance-data-dir", dir.toString(),
                "--instance-prompt", "a photo of sks dog");
    }

    @Test
    void optimizerAdamw8bitIsUse8bitAdamAndTheTwoMustAgree() throws Exception {
        assertTrue(config("dreambooth", "--optimizer", "adamw8bit", "--vocab", VOCAB).use8bitAdam());
        assertTrue(config("dreambooth", "--use-8bit-adam", "--vocab", VOCAB).use8bitAdam());
        assertTrue(config("dreambooth", "--optimizer", "AdamW8bit", "--use-8bit-adam", "--vocab", VOCAB).use8bitAdam());
        assertFalse(config("dreambooth", "--optimizer", "adamw", "--vocab", VOCAB).use8bitAdam());
        assertFalse(config("dreambooth", "--vocab", VOCAB).use8bitAdam());
        assertUsage("sdj train: --optimizer adamw and --use-8bit-adam contradict each other; give one of them.\n",
                "train", "dreambooth", "--vocab", VOCAB, "--optimizer", "adamw", "--use-8bit-adam");
        assertUsage("sdj train: --optimizer must be adamw or adamw8bit, got 'sgd'.\n", "train", "dreambooth",
                "--vocab", VOCAB, "--optimizer", "sgd");
    }

    @Test
    void saveDiffusersDefaultsToADiffusersFolderInTheOutputFolder() throws Exception {
        Options o = new TrainCommand().options();
        Path out = Path.of("out");
        assertEquals(out.resolve("diffusers"), DreamBoothRun.diffusersFolder(new DefaultParser().parse(o,
                new String[] {"dreambooth", "--save-diffusers"}), out));
        assertEquals(Path.of("elsewhere"), DreamBoothRun.diffusersFolder(new DefaultParser().parse(o,
                new String[] {"dreambooth", "--save-diffusers", "elsewhere"}), out));
        assertNull(DreamBoothRun.diffusersFolder(new DefaultParser().parse(o, new String[] {"dreambooth"}), out));
    }

    @Test
    void theProgressLineShowsStepLossLrSpeedAndEta() {
        Progress p = new Progress(3, 400, 0.2, 0.123456, 5e-6, 2.0);
        assertEquals("\r[" + " ".repeat(30) + "] 3/400 loss 0.1235 lr 5.00e-06 1.50 s/it ETA 9:56 ",
                TrainProgressBar.line(p, 1.5));
        assertEquals("\r[" + "#".repeat(15) + " ".repeat(15) + "] 200/400 loss 0.1235 lr 5.00e-06 20.00 s/it ETA 1:06:40 ",
                TrainProgressBar.line(new Progress(200, 400, 0.2, 0.123456, 5e-6, 2.0), 20));
    }

    private static TrainConfig config(String... args) throws Exception {
        CommandLine cmd = new DefaultParser().parse(new TrainCommand().options(), args);
        return DreamBoothRun.config(cmd);
    }

    private static void assertUsage(String stderr, String... args) {
        CliRun r = CliRun.sdj(args);
        assertEquals(stderr, r.err());
        assertEquals("", r.out());
        assertEquals(2, r.status());
    }
}
