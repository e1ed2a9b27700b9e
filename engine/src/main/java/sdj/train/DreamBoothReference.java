package sdj.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.nn.Parameter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.unet.UNetConfig;
import sdj.sd.verify.Check;
import sdj.sd.verify.ReferenceRun;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.DiffusionObjective.Result;
import sdj.train.optim.AdamW;
import sdj.train.optim.GradClip;
import sdj.train.optim.ParamGroup;

/**
 * Recomputes the inputs and the optimizer updates of a training reference's DreamBooth section (sd-tiny-train
 * README, "Inputs" and section E) and compares them: schedule coefficients, q_sample, VAE moments and posterior
 * latents, text context, offset noise, min-SNR weights, the UNet's prediction, the loss and the pre-clipping
 * global gradient norm over the whole UNet at update 1; with {@link #checkAllUpdates}, also clipping and AdamW
 * for every update on the same batch, each later update's loss and gradient norm, and every UNet weight after
 * the last update. Every hyperparameter comes from the reference's {@code __metadata__} {@code hyperparameters}.
 */
public final class DreamBoothReference {
    /** UNet parameter names start with this; DreamBooth trains all of them. */
    static final String UNET_PREFIX = "model.diffusion_model.";
    /** README "Tolerances": Adam-fragile elements and noise tensors after an update, |a − b| ≤ 3·lr. */
    static final double FRAGILE_LR_MULTIPLE = 3;
    /** README "Tolerances": other weights after an update, max|a − b| ≤ 1e-4·max|b|. */
    static final double WEIGHT_REL = 1e-4;

    private final StableDiffusionModel model;
    private final ReferenceCheck check;
    private final double toleranceScale;
    private final NoiseSchedule schedule;
    private final float latentScale;
    private final DreamBoothHyperparameters hp;
    private final UNetConfig unetConfig;

    private DreamBoothReference(StableDiffusionModel model, UNetConfig unetConfig, ReferenceCheck check,
            Map<String, Object> hyper, String origin) {
        this.model = model;
        this.unetConfig = unetConfig;
        this.check = check;
        this.toleranceScale = ReferenceRun.deviceToleranceScale(model.device(), model.dtype());
        this.schedule = NoiseSchedule.fromJson(JsonValues.object(hyper, "schedule", origin), origin);
        this.latentScale = (float) JsonValues.number(hyper, "latent_scale_factor", origin);
        this.hp = DreamBoothHyperparameters.fromJson(JsonValues.object(hyper, "dreambooth", origin), origin);
    }

    /** Loads the base checkpoint and the reference file and runs every update-1 check on the CPU in fp32. */
    public static ReferenceCheck checkUpdate1(Path checkpoint, Path reference, Consumer<Check> onCheck) throws IOException {
        return checkUpdate1(checkpoint, reference, Device.CPU, DType.F32, onCheck);
    }

    /**
     * The same with the model on {@code device} in {@code dtype}; forward, gradient and scalar tolerances
     * are widened as {@code sdj verify}'s ({@link ReferenceRun#deviceToleranceScale}).
     */
    public static ReferenceCheck checkUpdate1(Path checkpoint, Path reference, Device device, DType dtype,
            Consumer<Check> onCheck) throws IOException {
        return check(checkpoint, reference, device, dtype, onCheck, false);
    }

    /** Every update of the reference run (the {@code steps} hyperparameter) on the CPU in fp32. */
    public static ReferenceCheck checkAllUpdates(Path checkpoint, Path reference, Consumer<Check> onCheck)
            throws IOException {
        return checkAllUpdates(checkpoint, reference, Device.CPU, DType.F32, onCheck);
    }

    /**
     * The update-1 checks, then clipping (max_grad_norm) and AdamW (lr, betas, eps, weight decay) after each
     * update, {@code db.loss.k} and {@code db.gradnorm.k} of every later update k on the same batch, and one
     * check {@code db.after.<steps>.<key>} per UNet tensor: the weights after the last update against
     * W_init + float32({@code db.delta.<steps>.<key>}), W_init read from {@code checkpoint}.
     */
    public static ReferenceCheck checkAllUpdates(Path checkpoint, Path reference, Device device, DType dtype,
            Consumer<Check> onCheck) throws IOException {
        return check(checkpoint, reference, device, dtype, onCheck, true);
    }

    private static ReferenceCheck check(Path checkpoint, Path reference, Device device, DType dtype,
            Consumer<Check> onCheck, boolean allUpdates) throws IOException {
        SafeTensors ref = SafeTensors.open(reference);
        Map<String, String> metadata = ref.metadata();
        String hyper = metadata.get("hyperparameters");
        if (hyper == null) {
            throw new IllegalArgumentException(reference + " has no 'hyperparameters' entry in its __metadata__;"
                    + " it is not a training reference (sd-tiny-train layout)");
        }
        Map<String, Tensor> stateDict = StateDicts.load(checkpoint);
        // copies taken before the model may share (and the optimizer update) the loaded tensors
        Map<String, float[]> initialUnet = allUpdates ? unetValues(stateDict) : Map.of();
        ModelConfigs configs = ModelConfigFiles.fromMetadata(metadata, reference.toString());
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict, configs, checkpoint.toString(),
                device, dtype);
        ReferenceCheck check = new ReferenceCheck(ref.tensors(), reference.toString(), onCheck);
        DreamBoothReference run = new DreamBoothReference(model, configs.unet(), check, Json.parseObject(hyper),
                reference.toString());
        run.run(allUpdates ? initialUnet : null);
        return check;
    }

    private static Map<String, float[]> unetValues(Map<String, Tensor> stateDict) {
        Map<String, float[]> values = new TreeMap<>();
        stateDict.forEach((name, t) -> {
            if (name.startsWith(UNET_PREFIX)) {
                values.put(name, t.to(Device.CPU, DType.F32).toFloatArray());
            }
        });
        return values;
    }

    /** @param initialUnet W_init per UNet key to run every update, or null for update 1's checks only */
    private void run(Map<String, float[]> initialUnet) {
        long[] t = check.expected("in.t").toLongArray();
        checkInputs(t);
        Tensor context;
        try (var g = Autograd.noGrad()) { // the text encoder is frozen in DreamBooth
            context = model.clip().forward(check.expected("db.ids"));
        }
        check.compare("db.context", context, forward());
        Tensor noise = OffsetNoise.apply(input("in.noise"), input("in.offset"), (float) hp.offsetNoise());
        check.compare("db.noise", noise, elementwise());

        // Instances first, then as many class images (diffusers' collate_fn with prior preservation).
        DiffusionLoss loss = hp.loss(t.length / 2);
        if (loss.minSnr()) {
            check.compare("db.snr_weight", loss.instanceWeights(t, schedule), ReferenceCheck.ROUNDED_FLOAT64);
        }
        model.store().setTrainable(name -> name.startsWith(UNET_PREFIX));
        try {
            // from the stored latents, so VAE differences (checked above) do not leak into the UNet checks
            DiffusionBatch batch = new DiffusionBatch(input("in.latents"), t, noise, context);
            DiffusionObjective objective = new DiffusionObjective(schedule, loss);
            Result step = objective.forward(model.unet(), batch);
            check.compare("db.noisy", step.noisy(), elementwise());
            check.compare("db.eps.1", step.eps(), forward());
            check.compare("db.loss.1", step.loss().reshape(1), scalar());
            step.loss().backward();
            checkGradientNorm(1);
            if (initialUnet != null) {
                runLaterUpdates(objective, batch);
                checkWeights(initialUnet);
            }
        } finally {
            model.store().setTrainable(name -> false);
        }
    }

    /**
     * diffusers' loop on one batch: after each backward, clip the UNet gradients (when max_grad_norm is set),
     * AdamW step, zero the gradients; updates 2..steps check their loss and pre-clip gradient norm.
     */
    private void runLaterUpdates(DiffusionObjective objective, DiffusionBatch batch) {
        List<Parameter> unet = unetParameters();
        AdamW adamw = new AdamW(List.of(new ParamGroup(unet, hp.lr(), hp.weightDecay())), hp.beta1(), hp.beta2(),
                hp.eps());
        for (int k = 1; k <= hp.steps(); k++) {
            if (k > 1) {
                Result step = objective.forward(model.unet(), batch);
                check.compare("db.loss." + k, step.loss().reshape(1), scalar());
                step.loss().backward();
                checkGradientNorm(k);
            }
            if (!Double.isNaN(hp.maxGradNorm())) {
                GradClip.clipGradNorm(unet.stream().map(p -> p.tensor().grad()).toList(), hp.maxGradNorm());
            }
            adamw.step();
            unet.forEach(p -> p.tensor().zeroGrad());
        }
    }

    private void checkGradientNorm(int update) {
        List<Tensor> grads = model.store().trainable().stream().map(p -> p.tensor().grad()).toList();
        check.compare("db.gradnorm." + update, new float[] {GradClip.globalNorm(grads)}, scalar());
    }

    /**
     * One check per UNet tensor after the last update: W_init + float32(delta) with the README's fragile rules
     * (the {@code db.fragile.<key>} indices and every element of the {@link NoiseTensors}: 3·lr; the rest
     * 1e-4·max|b|).
     */
    private void checkWeights(Map<String, float[]> initialUnet) {
        Set<String> noiseTensors = new HashSet<>(NoiseTensors.of(unetConfig));
        double fragileBound = FRAGILE_LR_MULTIPLE * hp.lr();
        for (Parameter p : unetParameters()) {
            String key = p.name();
            float[] init = initialUnet.get(key);
            float[] delta = check.expected("db.delta." + hp.steps() + "." + key).toFloatArray();
            float[] expected = new float[delta.length];
            for (int i = 0; i < Math.min(init.length, delta.length); i++) {
                expected[i] = init[i] + delta[i];
            }
            String fragileName = "db.fragile." + key;
            long[] fragile = check.has(fragileName) ? check.expected(fragileName).toLongArray() : new long[0];
            float[] actual = p.master().to(Device.CPU, DType.F32).toFloatArray();
            check.add(FragileWeightCheck.compare("db.after." + hp.steps() + "." + key, actual, expected, fragile,
                    noiseTensors.contains(key), fragileBound, WEIGHT_REL * toleranceScale));
        }
    }

    /** The UNet's parameters in checkpoint-name order (the optimizer's single group, as diffusers'). */
    private List<Parameter> unetParameters() {
        return model.store().handles().entrySet().stream().filter(e -> e.getKey().startsWith(UNET_PREFIX))
                .sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
    }

    /** The shared inputs: schedule coefficients, q_sample, VAE moments and posterior latents. */
    private void checkInputs(long[] t) {
        check.compare("in.sqrt_ac", schedule.sqrtAlphasCumprod(t), ReferenceCheck.EXACT);
        check.compare("in.sqrt_1m_ac", schedule.sqrtOneMinusAlphasCumprod(t), ReferenceCheck.EXACT);
        check.compare("in.noisy", schedule.addNoise(input("in.latents"), input("in.noise"), t),
                elementwise());
        Tensor moments;
        try (var g = Autograd.noGrad()) {
            moments = model.vae().encodeMoments(input("in.pixels"));
        }
        check.compare("in.moments", moments, forward());
        check.compare("in.latents", Latents.sample(moments, check.expected("in.vae_noise"), latentScale), forward());
    }

    private Tensor input(String name) {
        return check.input(name, model.device(), model.dtype());
    }

    private Check.Tolerance forward() {
        return ReferenceCheck.FORWARD.scaled(toleranceScale);
    }

    /**
     * q_sample and offset noise: float32 arithmetic on the CPU; on a GPU the inputs are rounded to the
     * storage dtype first (fp16: 2^-11 relative), hence the wider bound there.
     */
    private Check.Tolerance elementwise() {
        return ReferenceCheck.ELEMENTWISE.scaled(toleranceScale == 1 ? 1 : 20 * toleranceScale);
    }

    private Check.Tolerance scalar() {
        return ReferenceCheck.SCALAR.scaled(toleranceScale);
    }
}
