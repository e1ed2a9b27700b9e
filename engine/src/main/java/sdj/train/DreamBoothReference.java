package sdj.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.sd.verify.Check;
import sdj.sd.verify.ReferenceRun;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.DiffusionObjective.Result;

/**
 * Recomputes the inputs and the first update's forward and backward of a training reference's
 * DreamBooth section (sd-tiny-train README, "Inputs" and section E) and compares them: schedule
 * coefficients, q_sample, VAE moments and posterior latents, text context, offset noise, min-SNR
 * weights, the UNet's prediction, the loss and the pre-clipping global gradient norm over the whole
 * UNet. Every hyperparameter comes from the reference's {@code __metadata__} {@code hyperparameters}.
 */
public final class DreamBoothReference {
    /** UNet parameter names start with this; DreamBooth trains all of them. */
    static final String UNET_PREFIX = "model.diffusion_model.";

    private final StableDiffusionModel model;
    private final ReferenceCheck check;
    private final double toleranceScale;
    private final NoiseSchedule schedule;
    private final float latentScale;
    private final DreamBoothHyperparameters hp;

    private DreamBoothReference(StableDiffusionModel model, ReferenceCheck check, Map<String, Object> hyper, String origin) {
        this.model = model;
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
        SafeTensors ref = SafeTensors.open(reference);
        Map<String, String> metadata = ref.metadata();
        String hyper = metadata.get("hyperparameters");
        if (hyper == null) {
            throw new IllegalArgumentException(reference + " has no 'hyperparameters' entry in its __metadata__;"
                    + " it is not a training reference (sd-tiny-train layout)");
        }
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(StateDicts.load(checkpoint),
                ModelConfigFiles.fromMetadata(metadata, reference.toString()), checkpoint.toString(), device, dtype);
        ReferenceCheck check = new ReferenceCheck(ref.tensors(), reference.toString(), onCheck);
        new DreamBoothReference(model, check, Json.parseObject(hyper), reference.toString()).run();
        return check;
    }

    private void run() {
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
            Result step = new DiffusionObjective(schedule, loss).forward(model.unet(), batch);
            check.compare("db.noisy", step.noisy(), elementwise());
            check.compare("db.eps.1", step.eps(), forward());
            check.compare("db.loss.1", step.loss().reshape(1), scalar());
            step.loss().backward();
            check.compare("db.gradnorm.1", new float[] {(float) GradientNorm.global(model.store().handles().values())},
                    scalar());
        } finally {
            model.store().setTrainable(name -> false);
        }
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

    /** A reference input on the model's device in its dtype (the stored tensor itself on the CPU). */
    private Tensor input(String name) {
        Tensor t = check.expected(name);
        return t.to(model.device(), model.device() == Device.CPU ? null : model.dtype());
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
