package sdj.train.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdj.train.optim.LrSchedule;

/**
 * Everything a fine-tuning run is told, under diffusers' {@code train_dreambooth.py} argument names in
 * camelCase ({@code --max_train_steps} is {@link #maxTrainSteps}) and with its defaults
 * ({@link #defaults()}, TRAINING-FACTS §3). Nullable boxed fields mean diffusers' {@code None}.
 * {@link TrainConfigJson} reads and writes it as JSON; {@link #validate()} names every bad value.
 *
 * @param pretrainedModelNameOrPath the base checkpoint (.ckpt or .safetensors, CompVis layout)
 * @param modelConfig               a model config JSON (models/sd-v1.json layout); null: SD v1
 * @param tokenizerName             CLIP's BPE merges file (bpe_simple_vocab_16e6.txt.gz or a Hugging Face form)
 * @param seed                      null: drawn once at the start and kept in every checkpoint
 * @param maxTrainSteps             null: numTrainEpochs epochs of optimizer steps
 * @param checkpointsTotalLimit     null: keep every checkpoint
 * @param resumeFromCheckpoint      a checkpoint folder, "latest" (the highest in outputDir), or null
 * @param use8bitAdam               bitsandbytes' block-wise 8-bit AdamW ({@code --use_8bit_adam}); CPU only
 * @param snrGamma                  min-SNR γ; null: plain MSE
 * @param noiseOffset               offset-noise strength ({@code --noise_offset}); 0: off
 * @param randomFlip                mirror images left-right at random (not in train_dreambooth.py; off there)
 * @param cacheLatents              encode each image once (needs centerCrop and no randomFlip)
 * @param sampleBatchSize           class images generated per sampler call ({@code --sample_batch_size})
 * @param classInferenceSteps       sampler steps per generated class image (diffusers' pipeline default 50)
 * @param validationPrompt          null: no validation images; else written to OUTDIR/validation/step-{N}-{i}.png
 * @param numValidationImages       images per validation, seeds seed, seed+1, …
 * @param validationSteps           validate after every this many optimizer steps
 * @param validationInferenceSteps  sampler steps per validation image (diffusers' {@code log_validation}: 25)
 * @param trainDataDir              text-to-image ({@code train_text_to_image.py}'s {@code --train_data_dir}): the
 *                                  folder of images captioned by its metadata.jsonl; in place of instanceDataDir
 *                                  and instancePrompt
 * @param vae                       a file whose {@code first_stage_model.*} tensors replace the base's VAE; with no
 *                                  base checkpoint the UNet and text encoder start from seeded random weights
 *                                  ({@link ScratchModel})
 * @param captionDropoutRate        the probability that a sample's caption is replaced by "" (kohya's
 *                                  {@code --caption_dropout_rate}), so classifier-free guidance works; 0: never
 * @param useEma                    keep an EMA of the trained weights ({@code --use_ema}); the result is the EMA
 * @param emaDecay                  the EMA's largest decay (diffusers' EMAModel default 0.9999)
 */
public record TrainConfig(
        String pretrainedModelNameOrPath, String modelConfig, String tokenizerName,
        String instanceDataDir, String instancePrompt, String classDataDir, String classPrompt,
        boolean withPriorPreservation, double priorLossWeight, int numClassImages,
        String outputDir, Long seed, int resolution, boolean centerCrop, boolean randomFlip,
        boolean trainTextEncoder, int trainBatchSize, int numTrainEpochs, Integer maxTrainSteps,
        int checkpointingSteps, Integer checkpointsTotalLimit, String resumeFromCheckpoint,
        int gradientAccumulationSteps, boolean gradientCheckpointing,
        double learningRate, boolean scaleLr, String lrScheduler, int lrWarmupSteps, int lrNumCycles, double lrPower,
        boolean use8bitAdam, double adamBeta1, double adamBeta2, double adamWeightDecay, double adamEpsilon,
        double maxGradNorm, Double snrGamma, double noiseOffset, String mixedPrecision,
        boolean cacheLatents, boolean skipBadImages,
        int sampleBatchSize, int classInferenceSteps,
        String validationPrompt, int numValidationImages, int validationSteps, int validationInferenceSteps,
        String trainDataDir, String vae, double captionDropoutRate, boolean useEma, double emaDecay) {

    /** The schedule names {@link LrSchedule#byName} knows. */
    static final List<String> LR_SCHEDULERS = List.of("constant", "constant_with_warmup", "linear", "cosine",
            "cosine_with_restarts", "polynomial");

    /** diffusers' defaults; the required paths and prompts are null. */
    public static TrainConfig defaults() {
        return new TrainConfig(null, null, null, null, null, null, null,
                false, 1.0, 100,
                "dreambooth-model", null, 512, false, false,
                false, 4, 1, null,
                500, null, null,
                1, false,
                5e-6, false, "constant", 500, 1, 1.0,
                false, 0.9, 0.999, 1e-2, 1e-8,
                1.0, null, 0.0, "no",
                false, false,
                4, 50,
                null, 4, 100, 25,
                null, null, 0.0, false, 0.9999);
    }

    /** A copy with the given fields replaced, by camelCase or snake_case name (as in a JSON config). */
    public TrainConfig with(Map<String, ?> changes) {
        return TrainConfigJson.apply(this, changes, "the changed settings");
    }

    /** The learning rate the optimizer starts from: ×accumulation×batch with scaleLr (one process). */
    public double effectiveLearningRate() {
        return scaleLr ? learningRate * gradientAccumulationSteps * trainBatchSize : learningRate;
    }

    /** One sentence per bad or missing value, empty when the config can start a run. */
    public List<String> validate() {
        List<String> bad = new ArrayList<>();
        if (vae == null) {
            require(bad, pretrainedModelNameOrPath, "pretrainedModelNameOrPath", "the base checkpoint file");
        }
        require(bad, tokenizerName, "tokenizerName", "CLIP's BPE merges file (bpe_simple_vocab_16e6.txt.gz)");
        if (trainDataDir == null) {
            require(bad, instanceDataDir, "instanceDataDir", "the folder of training images");
            require(bad, instancePrompt, "instancePrompt", "the caption of the instance images, e.g. \"a photo of sks dog\"");
        } else {
            check(bad, instanceDataDir == null, "instanceDataDir and trainDataDir both name training images; give one"
                    + " of them (trainDataDir: images captioned by metadata.jsonl).");
            check(bad, !withPriorPreservation, "withPriorPreservation is DreamBooth's; text-to-image (trainDataDir)"
                    + " trains on captioned images only, so leave it out.");
        }
        if (pretrainedModelNameOrPath == null && vae != null) {
            check(bad, seed != null, "seed is missing; training from scratch (a vae and no base checkpoint) starts"
                    + " from weights seeded by it, so give one to make the run reproducible and resumable.");
            check(bad, modelConfig != null, "modelConfig is missing; training from scratch needs the model sizes,"
                    + " e.g. models/sdj-shapes.json.");
        }
        check(bad, captionDropoutRate >= 0 && captionDropoutRate <= 1, "captionDropoutRate " + captionDropoutRate
                + " is outside [0, 1]; use e.g. 0.1, or 0 to keep every caption.");
        check(bad, emaDecay >= 0 && emaDecay < 1, "emaDecay " + emaDecay + " is outside [0, 1); use e.g. 0.9999.");
        require(bad, outputDir, "outputDir", "the folder for checkpoints, the log and the model");
        if (withPriorPreservation) {
            require(bad, classDataDir, "classDataDir", "the folder of class images (prior preservation is on)");
            require(bad, classPrompt, "classPrompt", "the caption of the class images, e.g. \"a photo of dog\""
                    + " (prior preservation is on)");
        }
        check(bad, priorLossWeight >= 0, "priorLossWeight " + priorLossWeight + " is negative; use 0 or more (1.0 is usual).");
        check(bad, numClassImages >= 0, "numClassImages " + numClassImages + " is negative; use 0 or more.");
        check(bad, resolution > 0 && resolution % 64 == 0, "resolution " + resolution
                + " is not a positive multiple of 64; use 512 for SD v1 or another multiple of 64.");
        check(bad, trainBatchSize >= 1, "trainBatchSize " + trainBatchSize + " is not allowed; use 1 or more.");
        check(bad, numTrainEpochs >= 1, "numTrainEpochs " + numTrainEpochs + " is not allowed; use 1 or more.");
        check(bad, maxTrainSteps == null || maxTrainSteps >= 1, "maxTrainSteps " + maxTrainSteps
                + " is not allowed; use 1 or more, or leave it out to train numTrainEpochs epochs.");
        check(bad, checkpointingSteps >= 1, "checkpointingSteps " + checkpointingSteps + " is not allowed; use 1 or more.");
        check(bad, checkpointsTotalLimit == null || checkpointsTotalLimit >= 1, "checkpointsTotalLimit "
                + checkpointsTotalLimit + " is not allowed; use 1 or more, or leave it out to keep every checkpoint.");
        check(bad, gradientAccumulationSteps >= 1, "gradientAccumulationSteps " + gradientAccumulationSteps
                + " is not allowed; use 1 or more.");
        check(bad, learningRate > 0 && Double.isFinite(learningRate), "learningRate " + learningRate
                + " is not a positive number; use e.g. 5e-6.");
        check(bad, lrScheduler != null && LR_SCHEDULERS.contains(lrScheduler.toLowerCase(Locale.ROOT)), "lrScheduler '"
                + lrScheduler + "' is unknown; use one of " + String.join(", ", LR_SCHEDULERS) + ".");
        check(bad, lrWarmupSteps >= 0, "lrWarmupSteps " + lrWarmupSteps + " is negative; use 0 or more.");
        check(bad, lrNumCycles >= 1, "lrNumCycles " + lrNumCycles + " is not allowed; use 1 or more.");
        check(bad, lrPower > 0, "lrPower " + lrPower + " is not positive; use e.g. 1.0.");
        check(bad, !"polynomial".equals(lrScheduler) || effectiveLearningRate() > LrSchedule.POLYNOMIAL_LR_END,
                "learningRate " + learningRate + " is not above the polynomial schedule's end lr 1e-7; use a larger one.");
        check(bad, adamBeta1 >= 0 && adamBeta1 < 1, "adamBeta1 " + adamBeta1 + " is outside [0, 1); use e.g. 0.9.");
        check(bad, adamBeta2 >= 0 && adamBeta2 < 1, "adamBeta2 " + adamBeta2 + " is outside [0, 1); use e.g. 0.999.");
        check(bad, adamWeightDecay >= 0, "adamWeightDecay " + adamWeightDecay + " is negative; use 0 or more (1e-2 is usual).");
        check(bad, adamEpsilon >= 0, "adamEpsilon " + adamEpsilon + " is negative; use e.g. 1e-8.");
        check(bad, maxGradNorm > 0, "maxGradNorm " + maxGradNorm + " is not positive; use e.g. 1.0.");
        check(bad, snrGamma == null || snrGamma > 0, "snrGamma " + snrGamma
                + " is not positive; use e.g. 5.0, or leave it out for plain MSE.");
        check(bad, noiseOffset >= 0 && Double.isFinite(noiseOffset), "noiseOffset " + noiseOffset
                + " is not a number ≥ 0; use e.g. 0.1, or 0 for none.");
        check(bad, List.of("no", "fp16", "bf16").contains(mixedPrecision), "mixedPrecision '" + mixedPrecision
                + "' is unknown; use \"no\" (fp32), or \"fp16\" or \"bf16\" on the cuda device.");
        check(bad, !cacheLatents || (centerCrop && !randomFlip), "cacheLatents needs images that are the same every"
                + " epoch; turn on centerCrop and turn off randomFlip, or turn cacheLatents off.");
        check(bad, sampleBatchSize >= 1, "sampleBatchSize " + sampleBatchSize + " is not allowed; use 1 or more.");
        check(bad, classInferenceSteps >= 1, "classInferenceSteps " + classInferenceSteps
                + " is not allowed; use 1 or more (50 is diffusers' default).");
        check(bad, numValidationImages >= 1, "numValidationImages " + numValidationImages + " is not allowed; use 1 or more.");
        check(bad, validationSteps >= 1, "validationSteps " + validationSteps + " is not allowed; use 1 or more.");
        check(bad, validationInferenceSteps >= 1, "validationInferenceSteps " + validationInferenceSteps
                + " is not allowed; use 1 or more (25 is diffusers' default).");
        return bad;
    }

    /** Throws one IllegalArgumentException whose message lists every problem {@link #validate()} finds. */
    public TrainConfig validated() {
        List<String> bad = validate();
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(String.join(" ", bad));
        }
        return this;
    }

    private static void require(List<String> bad, String value, String name, String what) {
        if (value == null || value.isBlank()) {
            bad.add(name + " is missing; give " + what + ".");
        }
    }

    private static void check(List<String> bad, boolean ok, String sentence) {
        if (!ok) {
            bad.add(sentence);
        }
    }
}
