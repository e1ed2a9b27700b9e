package sdj.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.AtomicFile;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.tensor.Tensor;
import sdj.train.data.DataPosition;
import sdj.train.optim.DynamicLossScaler;

/**
 * A training state that a run can continue from exactly, as one folder {@code checkpoint-N}:
 * the trainable weights ({@value #WEIGHTS}), the optimizer's moments and per-parameter step counts
 * ({@value #OPTIMIZER}: AdamW's fp32 moments, or AdamW8bit's byte codes and block maxima as {@link RunOptimizer}
 * keeps them, the optimizer's name in the metadata), the run's state ({@value #STATE}: optimizer steps done, the LR
 * scheduler's step count, which is that less the steps fp16 loss scaling skipped, the seed every random draw
 * derives from, the next data position and, for fp16, the loss scaler's state) and the config ({@value #CONFIG}).
 * The folder is written as {@code .checkpoint-N.partial} and renamed when every file is on disk, so a crash leaves
 * either no checkpoint-N or a complete one.
 *
 * @param globalStep     optimizer steps done (diffusers' {@code global_step}); the scheduler has stepped as often,
 *                       less the skipped steps
 * @param seed           the run's seed: noise, timesteps and posterior samples of a step derive from it and the step
 * @param next           the data position of the next batch
 * @param weights        trainable parameters by checkpoint name
 * @param expAvg         AdamW's first moments by parameter name
 * @param expAvgSq       AdamW's second moments by parameter name
 * @param optimizerSteps the optimizer's step count of each parameter
 * @param optimizer      "adamw" or "adamw8bit" ({@link RunOptimizer#name()}; "adamw" for checkpoints without it)
 * @param quantized      AdamW8bit's 8-bit moments by file key (state1/, absmax1/, state2/, absmax2/ + name)
 * @param skippedSteps   optimizer steps skipped for inf/NaN fp16 gradients (the scheduler did not step on them)
 * @param lossScale      the fp16 loss scaler's state, or null (fp32 and bf16 runs)
 * @param emaSteps       the EMA's step count (useEma; {@value #EMA}'s metadata "steps")
 * @param ema            the EMA weights by parameter name ({@value #EMA}), or null without useEma
 */
public record TrainingCheckpoint(long globalStep, long seed, DataPosition next, Map<String, Tensor> weights,
        Map<String, Tensor> expAvg, Map<String, Tensor> expAvgSq, Map<String, Long> optimizerSteps,
        String optimizer, Map<String, Tensor> quantized, TrainConfig config, long skippedSteps,
        DynamicLossScaler.State lossScale, long emaSteps, Map<String, Tensor> ema) {
    static final String EMA = "ema.safetensors";
    static final String WEIGHTS = "trainable.safetensors";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String STATE = "training_state.json";
    static final String CONFIG = "config.json";
    private static final String EXP_AVG = "exp_avg/";
    private static final String EXP_AVG_SQ = "exp_avg_sq/";
    private static final String OPTIMIZER_NAME = "optimizer";

    /** A checkpoint without EMA weights. */
    public TrainingCheckpoint(long globalStep, long seed, DataPosition next, Map<String, Tensor> weights,
            Map<String, Tensor> expAvg, Map<String, Tensor> expAvgSq, Map<String, Long> optimizerSteps,
            String optimizer, Map<String, Tensor> quantized, TrainConfig config, long skippedSteps,
            DynamicLossScaler.State lossScale) {
        this(globalStep, seed, next, weights, expAvg, expAvgSq, optimizerSteps, optimizer, quantized, config,
                skippedSteps, lossScale, 0, null);
    }

    /** A checkpoint of an AdamW run without loss scaling and without skipped steps. */
    public TrainingCheckpoint(long globalStep, long seed, DataPosition next, Map<String, Tensor> weights,
            Map<String, Tensor> expAvg, Map<String, Tensor> expAvgSq, Map<String, Long> optimizerSteps,
            TrainConfig config) {
        this(globalStep, seed, next, weights, expAvg, expAvgSq, optimizerSteps, RunOptimizer.ADAMW, Map.of(), config,
                0, null);
    }

    /** Called after each file of a checkpoint is written (tests inject crashes here). */
    @FunctionalInterface
    public interface WriteHook {
        WriteHook NONE = file -> { };

        void written(String file) throws IOException;
    }

    /** Writes checkpoint-{globalStep} in outputDir (replacing one of that step), atomically as a folder. */
    public Path save(Path outputDir, WriteHook hook) throws IOException {
        Path target = CheckpointFolders.folder(outputDir, globalStep);
        Path partial = CheckpointFolders.partial(outputDir, globalStep);
        CheckpointFolders.deleteTree(partial);
        Files.createDirectories(partial);
        boolean done = false;
        try {
            SafeTensors.write(partial.resolve(WEIGHTS), weights, Map.of("format", "pt"));
            hook.written(WEIGHTS);
            Map<String, Tensor> moments = new LinkedHashMap<>();
            expAvg.forEach((name, t) -> moments.put(EXP_AVG + name, t));
            expAvgSq.forEach((name, t) -> moments.put(EXP_AVG_SQ + name, t));
            moments.putAll(quantized);
            SafeTensors.write(partial.resolve(OPTIMIZER), moments, Map.of("steps", Json.write(optimizerSteps),
                    OPTIMIZER_NAME, optimizer));
            hook.written(OPTIMIZER);
            if (ema != null) {
                SafeTensors.write(partial.resolve(EMA), ema, Map.of("steps", Long.toString(emaSteps)));
                hook.written(EMA);
            }
            TrainConfigJson.write(config, partial.resolve(CONFIG));
            hook.written(CONFIG);
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("globalStep", globalStep);
            state.put("schedulerStep", globalStep - skippedSteps);
            state.put("seed", seed);
            state.put("dataPosition", Json.parseObject(next.toJson()));
            if (lossScale != null) {
                state.put("lossScale", Map.of("scale", (double) lossScale.scale(), "growthTracker",
                        (long) lossScale.growthTracker()));
            }
            AtomicFile.write(partial.resolve(STATE), Json.write(state).getBytes(StandardCharsets.UTF_8));
            hook.written(STATE);
            CheckpointFolders.deleteTree(target); // a re-run of this step (resumed from an older checkpoint)
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, target);
            }
            done = true;
            return target;
        } finally {
            if (!done) {
                CheckpointFolders.deleteTree(partial);
            }
        }
    }

    /** Reads a checkpoint folder a run wrote; a missing or malformed part is one sentence naming the file. */
    public static TrainingCheckpoint load(Path folder) throws IOException {
        Path statePath = folder.resolve(STATE);
        if (!Files.isRegularFile(statePath)) {
            throw new IllegalArgumentException("Checkpoint folder " + folder + " has no " + STATE
                    + "; give a checkpoint-N folder a run wrote completely, or \"latest\".");
        }
        Map<String, Object> state;
        try {
            state = Json.parseObject(Files.readString(statePath));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Checkpoint state " + statePath + " is not valid JSON (" + e.getMessage()
                    + "); resume from another checkpoint.", e);
        }
        if (!(state.get("globalStep") instanceof Long step) || !(state.get("seed") instanceof Long seed)
                || !(state.get("dataPosition") instanceof Map<?, ?> position)) {
            throw new IllegalArgumentException("Checkpoint state " + statePath + " needs integer \"globalStep\" and"
                    + " \"seed\" and a \"dataPosition\" object; resume from another checkpoint.");
        }
        long schedulerStep = state.get("schedulerStep") instanceof Long l ? l : step;
        if (schedulerStep < 0 || schedulerStep > step) {
            throw new IllegalArgumentException("Checkpoint state " + statePath + " gives schedulerStep " + schedulerStep
                    + ", outside 0.." + step + " (its globalStep); resume from another checkpoint.");
        }
        DynamicLossScaler.State lossScale = lossScale(state.get("lossScale"), statePath);
        SafeTensors optimizer = SafeTensors.open(folder.resolve(OPTIMIZER));
        Map<String, Tensor> expAvg = new LinkedHashMap<>();
        Map<String, Tensor> expAvgSq = new LinkedHashMap<>();
        Map<String, Tensor> quantized = new LinkedHashMap<>();
        optimizer.tensors().forEach((name, t) -> {
            if (RunOptimizer.QUANTIZED_PREFIXES.stream().anyMatch(name::startsWith)) {
                quantized.put(name, t);
            } else if (name.startsWith(EXP_AVG_SQ)) {
                expAvgSq.put(name.substring(EXP_AVG_SQ.length()), t);
            } else if (name.startsWith(EXP_AVG)) {
                expAvg.put(name.substring(EXP_AVG.length()), t);
            }
        });
        Map<String, Long> steps = new LinkedHashMap<>();
        String stepsJson = optimizer.metadata().get("steps");
        Map<String, Object> parsed = stepsJson == null ? Map.of() : Json.parseObject(stepsJson);
        parsed.forEach((name, v) -> {
            if (!(v instanceof Long l)) {
                throw new IllegalArgumentException("Optimizer state " + folder.resolve(OPTIMIZER) + " gives parameter '"
                        + name + "' the step count " + v + "; resume from another checkpoint.");
            }
            steps.put(name, l);
        });
        Map<String, Tensor> ema = null;
        long emaSteps = 0;
        if (Files.isRegularFile(folder.resolve(EMA))) {
            SafeTensors emaFile = SafeTensors.open(folder.resolve(EMA));
            ema = emaFile.tensors();
            try {
                emaSteps = Long.parseLong(emaFile.metadata().getOrDefault("steps", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("EMA state " + folder.resolve(EMA) + " has no whole-number \"steps\""
                        + " metadata; resume from another checkpoint.", e);
            }
        }
        return new TrainingCheckpoint(step, seed, DataPosition.fromJson(Json.write(position)),
                SafeTensors.open(folder.resolve(WEIGHTS)).tensors(), expAvg, expAvgSq, steps,
                optimizer.metadata().getOrDefault(OPTIMIZER_NAME, RunOptimizer.ADAMW), quantized,
                TrainConfigJson.read(folder.resolve(CONFIG)), step - schedulerStep, lossScale, emaSteps, ema);
    }

    /** The "lossScale" entry {"scale": s, "growthTracker": n}, or null when absent. */
    private static DynamicLossScaler.State lossScale(Object entry, Path statePath) {
        if (entry == null) {
            return null;
        }
        if (entry instanceof Map<?, ?> m && m.get("scale") instanceof Number scale
                && m.get("growthTracker") instanceof Long tracker) {
            try {
                return new DynamicLossScaler.State(scale.floatValue(), Math.toIntExact(tracker));
            } catch (IllegalArgumentException | ArithmeticException e) {
                // reported below in the file's terms
            }
        }
        throw new IllegalArgumentException("Checkpoint state " + statePath + " has a \"lossScale\" that is not"
                + " {\"scale\": a number > 0, \"growthTracker\": an integer ≥ 0}; resume from another checkpoint.");
    }
}
