package sdj.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import sdj.io.StateDicts;
import sdj.nn.Parameter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.pipeline.StableDiffusion;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.data.DataPosition;
import sdj.train.optim.DynamicLossScaler;
import sdj.train.optim.LrSchedule;
import sdj.train.optim.MasterWeightStep;
import sdj.train.optim.MixedPrecision;
import sdj.train.optim.ParamGroup;

/**
 * The fine-tuning loop of diffusers' training scripts for one process, around a {@link TrainingMethod} (what
 * trains, the data, the loss, the result; DreamBooth by default): each optimizer step takes
 * {@code gradientAccumulationSteps} micro-batches, backpropagates loss/accum, clips the global gradient norm,
 * sets the scheduled learning rate, steps AdamW (or AdamW8bit, {@link RunOptimizer}) and clears the gradients. Every
 * {@code checkpointingSteps} it writes a {@link TrainingCheckpoint}; {@code resumeFromCheckpoint}
 * continues from one so exactly that the final weights equal an uninterrupted run's, bit for bit (the
 * data continues at the saved position, where diffusers restarts the resumed epoch's data order, and the
 * random draws derive from the seed and the step, {@link StepRandom}, instead of one global generator).
 * With prior preservation, missing class images are generated first ({@link ClassImages}); with a
 * {@code validationPrompt}, every {@code validationSteps} steps writes validation images
 * ({@link ValidationImages}) after that step's checkpoint, as diffusers orders them.
 *
 * <p>With {@code mixedPrecision} fp16 or bf16 the model is on the GPU in that dtype and the trainable parameters
 * keep fp32 master weights, which AdamW updates and checkpoints hold ({@link MasterWeightStep}); fp16 scales the
 * loss ({@link DynamicLossScaler}, its state in the checkpoints). A step whose fp16 gradients overflow is skipped,
 * logged ({@code "skipped": true}) and counted, not a stop; as accelerate's scheduler wrapper, the LR schedule does
 * not advance on it, while the step still counts towards {@code maxTrainSteps} and the checkpoint numbers.
 *
 * <p>With {@code useEma} an {@link EmaWeights} follows the trained weights after every step; checkpoints hold it
 * and the saved model is its weights.
 */
public final class Trainer {
    private final TrainConfig config;
    private final StableDiffusionModel model;
    private final Path outputDir;
    private final TrainingMethod method;
    private final List<Parameter> params;
    private final RunOptimizer optimizer;
    private final MasterWeightStep update;
    private final LrSchedule schedule;
    private final StableDiffusion pipeline;
    private final List<ParamGroup> groups;
    private final double[] initialLrs;
    private final long seed;
    private final long totalSteps;
    /** useEma: the moving average of the trained weights, which the result holds (diffusers' EMAModel). */
    private final EmaWeights ema;
    private long globalStep;
    private long skippedSteps;
    private DataPosition position = DataPosition.START;
    private Path lastCheckpoint;
    private double smoothedLoss = Double.NaN;
    private TrainLog log;
    private Consumer<Progress> progress = p -> { };
    private TrainingCheckpoint.WriteHook writeHook = TrainingCheckpoint.WriteHook.NONE;

    /** Loads the base checkpoint, its model config and the tokenizer the config names, then as the constructor. */
    public static Trainer open(TrainConfig config) throws IOException {
        return open(config, ClassImages.Listener.NONE);
    }

    /** As {@link #open(TrainConfig)}, telling {@code classImages} of each class image generated. */
    public static Trainer open(TrainConfig config, ClassImages.Listener classImages) throws IOException {
        return open(config, Device.CPU, classImages);
    }

    /**
     * As {@link #open(TrainConfig)} with the model on {@code device}: on cuda stored in fp32, or in fp16/bf16 with
     * {@code mixedPrecision} (which the cpu refuses in one sentence, before the weights are read).
     */
    public static Trainer open(TrainConfig config, Device device, ClassImages.Listener classImages) throws IOException {
        config.validated();
        MixedPrecision precision = MixedPrecision.parse(config.mixedPrecision());
        requireDevice(precision, device);
        ModelConfigs configs = ModelConfigFiles.forCheckpoint(config.modelConfig(),
                config.pretrainedModelNameOrPath() == null ? null : Path.of(config.pretrainedModelNameOrPath()),
                ModelConfigs.SD_V1);
        Map<String, Tensor> stateDict;
        String origin;
        if (config.pretrainedModelNameOrPath() != null) {
            stateDict = StateDicts.load(Path.of(config.pretrainedModelNameOrPath()));
            origin = config.pretrainedModelNameOrPath();
        } else { // from scratch: validated() made sure of a seed and a vae
            stateDict = ScratchModel.initial(configs, config.seed());
            origin = "random weights (seed " + config.seed() + ")";
        }
        if (config.vae() != null) {
            Path vae = Path.of(config.vae());
            stateDict = ScratchModel.withVae(stateDict, vae);
            Float scale = ScratchModel.scaleFactorOf(vae);
            if (scale != null) {
                configs = new ModelConfigs(configs.unet(), configs.vae(), configs.clip(), scale);
            }
        }
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict, configs, origin,
                device, precision.dtype());
        return new Trainer(config, model, ClipTokenizer.load(Path.of(config.tokenizerName())), stateDict, classImages);
    }

    /**
     * A DreamBooth run of {@code config} on {@code model} (whose trainable marks it sets). {@code base} is the state
     * dict the model was built from, which {@link #saveModel} writes back with the trained weights (null: the
     * model's own parameters, so a checkpoint's schedule buffers are not written).
     */
    public Trainer(TrainConfig config, StableDiffusionModel model, ClipTokenizer tokenizer, Map<String, Tensor> base)
            throws IOException {
        this(config, model, tokenizer, base, ClassImages.Listener.NONE);
    }

    /** As the constructor above, telling {@code classImages} of each class image generated. */
    public Trainer(TrainConfig config, StableDiffusionModel model, ClipTokenizer tokenizer, Map<String, Tensor> base,
            ClassImages.Listener classImages) throws IOException {
        this((c, pipeline, b) -> DreamBoothMethod.open(c, pipeline, b, classImages), config,
                model, tokenizer, base);
    }

    /**
     * A run of {@code config} on {@code model} with the method {@code factory} opens. Checks the config, the output
     * folder, its free space and the method's data, and restores the checkpoint to resume from, before the first
     * step.
     */
    public Trainer(TrainingMethod.Factory factory, TrainConfig config, StableDiffusionModel model,
            ClipTokenizer tokenizer, Map<String, Tensor> base) throws IOException {
        config.validated();
        MixedPrecision precision = MixedPrecision.parse(config.mixedPrecision());
        requireDevice(precision, model.device());
        if (precision != MixedPrecision.NO && model.dtype() != precision.dtype()) {
            throw new IllegalArgumentException("mixedPrecision " + precision.flag() + " needs the model stored in "
                    + precision.dtype() + " but it is " + model.dtype() + "; move it with model.moveTo(cuda, "
                    + precision.dtype() + ") first.");
        }
        this.model = model;
        this.outputDir = writableFolder(Path.of(config.outputDir()));
        CheckpointFolders.removePartials(outputDir);
        TrainingCheckpoint resume = null;
        if (config.resumeFromCheckpoint() != null) {
            Path folder = CheckpointFolders.resolve(outputDir, config.resumeFromCheckpoint());
            resume = folder == null ? null : TrainingCheckpoint.load(folder); // "latest" of none: a fresh run, as diffusers
            lastCheckpoint = folder;
        }
        if (resume != null && config.seed() != null && config.seed() != resume.seed()) {
            throw new IllegalArgumentException("seed " + config.seed() + " differs from the seed " + resume.seed()
                    + " of checkpoint " + lastCheckpoint + "; leave the seed out or give the same one to resume exactly.");
        }
        this.seed = resume != null ? resume.seed() : config.seed() != null ? config.seed() : StepRandom.freshSeed();
        this.config = config.with(Map.of("seed", seed));
        this.pipeline = new StableDiffusion(model, tokenizer);
        this.method = factory.open(this.config, pipeline, base);
        List<ParamGroup> groups = method.parameterGroups();
        this.params = groups.stream().flatMap(g -> g.params().stream()).toList();
        MixedPrecision.startMasters(params, base == null ? Map.of() : base); // exact fp32, not the rounded weights
        long checkpointBytes = 3 * 4 * params.stream().mapToLong(Parameter::numel).sum(); // weights + 2 fp32 moments
        checkSpace(outputDir, Files.getFileStore(outputDir).getUsableSpace(), checkpointBytes);
        model.unet().setGradientCheckpointing(config.gradientCheckpointing());
        this.optimizer = RunOptimizer.open(config, groups);
        this.update = new MasterWeightStep(params, optimizer::step, precision.newScaler(), config.maxGradNorm());
        int accum = config.gradientAccumulationSteps();
        int perEpoch = (method.batchesPerEpoch() + accum - 1) / accum;
        this.totalSteps = config.maxTrainSteps() != null ? config.maxTrainSteps() : (long) config.numTrainEpochs() * perEpoch;
        // As torch's LambdaLR: one factor for every group, times the group's own starting lr; the polynomial
        // schedule's lr0 is the optimizer's default lr, the run's learning rate.
        this.schedule = LrSchedule.byName(config.lrScheduler(), config.lrWarmupSteps(), totalSteps,
                config.effectiveLearningRate(), config.lrNumCycles(), config.lrPower(), LrSchedule.POLYNOMIAL_LR_END);
        this.groups = groups;
        this.initialLrs = groups.stream().mapToDouble(ParamGroup::lr).toArray();
        this.ema = config.useEma() ? new EmaWeights(config.emaDecay(), params) : null;
        if (resume != null) {
            restore(resume);
        }
    }

    /** Called after every optimizer step (a progress bar). */
    public void onProgress(Consumer<Progress> listener) {
        this.progress = listener;
    }

    /** Tests inject crashes between the files of a checkpoint here. */
    void checkpointWriteHook(TrainingCheckpoint.WriteHook hook) {
        this.writeHook = hook;
    }

    /** Batches the VAE encoded so far (fewer than micro-batches with cacheLatents). */
    int vaeEncodes() {
        return method.vaeEncodes();
    }

    /** The config as run: the seed filled in. */
    public TrainConfig config() {
        return config;
    }

    public StableDiffusionModel model() {
        return model;
    }

    /** Optimizer steps done. */
    public long globalStep() {
        return globalStep;
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** Optimizer steps skipped because fp16 gradients overflowed (0 without fp16 loss scaling). */
    public long skippedSteps() {
        return skippedSteps;
    }

    /** The fp16 loss scaler's state now, or null without loss scaling (tests of resume). */
    DynamicLossScaler.State lossScale() {
        return update.scaler() == null ? null : update.scaler().state();
    }

    /** The newest checkpoint written or resumed from, or null. */
    public Path lastCheckpoint() {
        return lastCheckpoint;
    }

    /** The trainable parameters' current tensors by checkpoint name (live, not copies). */
    public Map<String, Tensor> trainedWeights() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        params.forEach(p -> out.put(p.name(), p.tensor()));
        return out;
    }

    /** Runs the remaining optimizer steps; returns the steps done. */
    public long train() throws IOException {
        return train(totalSteps);
    }

    /** Runs optimizer steps until {@code untilStep} (at most the run's total) are done; returns the steps done. */
    public long train(long untilStep) throws IOException {
        if (log == null) {
            log = TrainLog.open(outputDir, globalStep);
        }
        long end = Math.min(untilStep, totalSteps);
        while (globalStep < end) {
            step();
        }
        return globalStep;
    }

    /** The run's result (for DreamBooth the base model with the trained weights, CompVis layout, by extension). */
    public void saveModel(Path file) throws IOException {
        if (ema != null) { // diffusers' ema_unet.copy_to before saving: the result is the EMA weights
            method.save(file, ema.weights(params));
            return;
        }
        method.save(file);
    }

    /** The trained model also as a diffusers folder (DreamBooth; other methods' results are files of their own). */
    public void saveDiffusers(Path folder) throws IOException {
        method.saveDiffusers(folder);
    }

    private void step() throws IOException {
        long k = globalStep + 1;
        long start = System.nanoTime();
        int accum = config.gradientAccumulationSteps();
        double lossSum = 0;
        for (int m = 0; m < accum; m++) {
            Tensor loss = method.loss(position, StepRandom.forMicroBatch(seed, (k - 1) * accum + m));
            float value = loss.cpu().item();
            if (!Float.isFinite(value)) {
                throw stopped(k, "the loss is " + value);
            }
            // accelerate divides by the accumulation steps (and fp16 multiplies by the loss scale)
            update.lossForBackward(accum == 1 ? loss : loss.mul(1f / accum)).backward();
            lossSum += value;
            position = method.next(position);
        }
        double factor = schedule.lrAt(1.0, k - skippedSteps); // the scheduler steps only with the optimizer
        for (int g = 0; g < groups.size(); g++) {
            groups.get(g).lr(initialLrs[g] * factor);
        }
        double lr = groups.get(0).lr(); // the log's lr: the first group's (diffusers logs get_last_lr()[0])
        MasterWeightStep.Outcome outcome = update.step(); // unscale (fp16), clip, AdamW on the fp32 masters
        float norm = outcome.gradNorm();
        if (outcome.kind() == MasterWeightStep.Kind.NOT_FINITE) {
            throw stopped(k, "the gradient norm is " + norm);
        }
        boolean skipped = outcome.kind() == MasterWeightStep.Kind.SKIPPED;
        if (skipped) {
            skippedSteps++;
        }
        params.forEach(p -> p.tensor().clearGradKeepingStorage());
        if (ema != null) {
            ema.step(params); // as diffusers, after every optimizer step (sync_gradients)
        }
        globalStep = k;
        double seconds = (System.nanoTime() - start) / 1e9;
        double loss = lossSum / accum;
        smoothedLoss = Double.isNaN(smoothedLoss) ? loss : 0.9 * smoothedLoss + 0.1 * loss;
        log.append(k, loss, lr, norm, seconds, update.scaler(), skipped);
        if (k % config.checkpointingSteps() == 0) {
            saveCheckpoint();
        }
        if (config.validationPrompt() != null && k % config.validationSteps() == 0) {
            ValidationImages.write(config, seed, pipeline, outputDir, k);
        }
        progress.accept(new Progress(k, totalSteps, loss, smoothedLoss, lr, seconds));
    }

    private TrainingStoppedException stopped(long step, String what) {
        params.forEach(p -> p.tensor().zeroGrad());
        return new TrainingStoppedException(step, "Training stopped at step " + step + ": " + what + "; the weights"
                + " are those of step " + (step - 1) + (lastCheckpoint == null ? " and no checkpoint was written yet"
                : " and the last good checkpoint is " + lastCheckpoint)
                + ". Lower the learning rate or check the training images, then resume from that checkpoint.");
    }

    private void saveCheckpoint() throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        Map<String, Tensor> expAvg = new LinkedHashMap<>();
        Map<String, Tensor> expAvgSq = new LinkedHashMap<>();
        Map<String, Tensor> quantized = new LinkedHashMap<>();
        Map<String, Long> steps = new LinkedHashMap<>();
        for (Parameter p : params) {
            weights.put(p.name(), host(p.master())); // fp32: the tensor itself; fp16/bf16: the exact master
            optimizer.save(p, expAvg, expAvgSq, quantized, steps);
        }
        DynamicLossScaler scaler = update.scaler();
        lastCheckpoint = new TrainingCheckpoint(globalStep, seed, position, weights, expAvg, expAvgSq, steps,
                optimizer.name(), quantized, config, skippedSteps, scaler == null ? null : scaler.state(),
                ema == null ? 0 : ema.steps(), ema == null ? null : ema.weights(params))
                .save(outputDir, writeHook);
        if (config.checkpointsTotalLimit() != null) {
            CheckpointFolders.keepNewest(outputDir, config.checkpointsTotalLimit());
        }
    }

    private void restore(TrainingCheckpoint ck) {
        Set<String> names = ck.weights().keySet();
        List<String> ours = params.stream().map(Parameter::name).toList();
        if (!names.equals(Set.copyOf(ours))) {
            throw new IllegalArgumentException("Checkpoint " + lastCheckpoint + " holds " + names.size() + " trained"
                    + " tensors but this run trains " + ours.size() + " (the method, its targets and trainTextEncoder must"
                    + " match); resume with the settings of the run that wrote it.");
        }
        if (!ck.optimizer().equals(optimizer.name())) {
            throw new IllegalArgumentException("Checkpoint " + lastCheckpoint + " holds the state of the optimizer "
                    + ck.optimizer() + " but this run uses " + optimizer.name() + "; resume with the use8bitAdam setting"
                    + " of the run that wrote it.");
        }
        for (Parameter p : params) {
            Tensor w = ck.weights().get(p.name());
            p.set(Tensor.of(w.to(Device.CPU, DType.F32).toFloatArray().clone(), w.shape())
                    .to(p.tensor().device(), p.tensor().dtype()));
            if (p.tensor().dtype() != DType.F32) {
                p.startMasterFrom(w); // the checkpoint holds the fp32 master
            }
            optimizer.restore(p, ck, lastCheckpoint);
        }
        if (ema != null) {
            if (ck.ema() == null) {
                throw new IllegalArgumentException("Checkpoint " + lastCheckpoint + " has no EMA weights but this run"
                        + " uses useEma; resume with the settings of the run that wrote it.");
            }
            ema.restore(ck.emaSteps(), ck.ema(), lastCheckpoint);
        }
        globalStep = ck.globalStep();
        skippedSteps = ck.skippedSteps();
        if (update.scaler() != null && ck.lossScale() != null) {
            update.scaler().restore(ck.lossScale());
        }
        position = ck.next();
    }

    /** The cpu computes in fp32: fp16/bf16 mixed precision is for the cuda device. */
    static void requireDevice(MixedPrecision precision, Device device) {
        if (precision != MixedPrecision.NO && device == Device.CPU) {
            throw new IllegalArgumentException("mixedPrecision " + precision.flag() + " needs the cuda device; the cpu"
                    + " computes in fp32, so train on cuda or set mixedPrecision to \"no\".");
        }
    }

    private static Tensor host(Tensor t) {
        return t.detach().to(Device.CPU, DType.F32);
    }

    /** One sentence when the output folder has less free space than one checkpoint needs. */
    static void checkSpace(Path dir, long usable, long needed) {
        if (usable < needed) {
            throw new IllegalArgumentException("Output folder " + dir + " has " + megabytes(usable) + " MB free but a"
                    + " checkpoint of this run needs about " + megabytes(needed) + " MB; free some space or choose"
                    + " another folder.");
        }
    }

    private static long megabytes(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    /** The output folder, created; one sentence before training when it cannot be made or written. */
    private static Path writableFolder(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("Output folder " + dir + " cannot be created (" + e + "); choose a folder"
                    + " you can write to.", e);
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("Output folder " + dir + " is not writable; choose a folder you can write to.");
        }
        return dir;
    }
}
