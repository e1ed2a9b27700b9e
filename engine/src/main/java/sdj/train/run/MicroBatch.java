package sdj.train.run;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import sdj.ops.F;
import sdj.random.TorchGenerator;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.DiffusionBatch;
import sdj.train.DiffusionLoss;
import sdj.train.DiffusionObjective;
import sdj.train.Latents;
import sdj.train.NoiseSchedule;
import sdj.train.OffsetNoise;
import sdj.train.data.Batch;

/**
 * The forward of one micro-batch, as diffusers' DreamBooth loop computes it: VAE posterior sample × scale
 * → latents; ε ~ N(0, 1) (plus offset noise); per-sample t ~ U{0…T−1}; text context of the captions
 * (without gradient unless the text encoder is trained); then the diffusion loss of the UNet's
 * prediction. Draws in that order from the micro-batch's generator ({@link StepRandom}).
 */
final class MicroBatch {
    private final StableDiffusionModel model;
    private final ClipTokenizer tokenizer;
    private final NoiseSchedule schedule;
    private final float latentScale;
    private final float noiseOffset;
    private final double priorLossWeight;
    private final double snrGamma;
    private final boolean trainTextEncoder;
    private final double captionDropoutRate;
    /**
     * VAE moments by image file, when the images are the same every epoch (cacheLatents): a batch goes through
     * the encoder only while one of its images has not; the posterior is still sampled afresh at every step.
     */
    private final Map<String, Tensor> momentsCache;
    private int encodes;

    MicroBatch(StableDiffusionModel model, ClipTokenizer tokenizer, NoiseSchedule schedule, float latentScale,
            TrainConfig config) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.schedule = schedule;
        this.latentScale = latentScale;
        this.noiseOffset = (float) config.noiseOffset();
        this.priorLossWeight = config.priorLossWeight();
        this.snrGamma = config.snrGamma() == null ? Double.NaN : config.snrGamma();
        this.trainTextEncoder = config.trainTextEncoder();
        this.captionDropoutRate = config.captionDropoutRate();
        this.momentsCache = config.cacheLatents() ? new HashMap<>() : null;
    }

    /** The loss of the batch (a 0-dim tensor recorded for backward). */
    Tensor loss(Batch batch, TorchGenerator g) {
        Tensor moments = moments(batch);
        int[] ms = moments.shape();
        Tensor latents = Latents.sample(moments, g.randn(ms[0], ms[1] / 2, ms[2], ms[3]), latentScale);
        int[] ls = latents.shape();
        Tensor noise = g.randn(ls);
        if (noiseOffset > 0) {
            noise = OffsetNoise.apply(noise, g.randn(ls[0], ls[1], 1, 1), noiseOffset);
        }
        long[] t = StepRandom.timesteps(g, ls[0], schedule.timesteps());
        Tensor context = context(captions(batch, g));
        DiffusionLoss loss = new DiffusionLoss(batch.instances(), priorLossWeight, snrGamma);
        DiffusionBatch db = new DiffusionBatch(onModel(latents), t, onModel(noise), context);
        return new DiffusionObjective(schedule, loss).forward(model.unet(), db).loss();
    }

    private Tensor moments(Batch batch) {
        List<String> keys = batch.files().stream().map(Object::toString).toList();
        if (momentsCache != null && momentsCache.keySet().containsAll(keys)) {
            List<Tensor> rows = new ArrayList<>(keys.size());
            for (String key : keys) {
                rows.add(momentsCache.get(key));
            }
            return rows.size() == 1 ? rows.get(0) : F.cat(rows, 0);
        }
        Tensor moments;
        try (var g = Autograd.noGrad()) { // the VAE is frozen
            moments = model.vae().encodeMoments(onModel(batch.pixels()));
        }
        encodes++;
        if (momentsCache != null) {
            for (int i = 0; i < keys.size(); i++) {
                momentsCache.put(keys.get(i), moments.narrow(0, i, 1).contiguous());
            }
        }
        return moments;
    }

    /** How many batches went through the VAE encoder (tests of the cache). */
    int encodes() {
        return encodes;
    }

    /**
     * The batch's captions, each replaced by "" with probability captionDropoutRate (kohya's caption dropout, so the
     * model also learns the unconditional prediction classifier-free guidance needs); one uniform draw per sample
     * from the micro-batch's generator, after the timesteps, so a resumed run draws the same. Without dropout
     * nothing is drawn.
     */
    private List<String> captions(Batch batch, TorchGenerator g) {
        return dropCaptions(batch.prompts(), captionDropoutRate, g);
    }

    /** {@code prompts} with each replaced by "" with probability {@code rate}, one draw each (none when rate is 0). */
    static List<String> dropCaptions(List<String> prompts, double rate, TorchGenerator g) {
        if (!(rate > 0)) {
            return prompts;
        }
        List<String> out = new ArrayList<>(prompts.size());
        for (String prompt : prompts) {
            out.add(uniform(g) < rate ? "" : prompt);
        }
        return out;
    }

    /** A uniform double in [0, 1) from 53 of the generator's bits. */
    static double uniform(TorchGenerator g) {
        return (g.random64() >>> 11) * 0x1.0p-53;
    }

    private Tensor context(List<String> prompts) {
        int n = prompts.size();
        long[] ids = new long[n * ClipTokenizer.CONTEXT_LENGTH];
        for (int i = 0; i < n; i++) {
            int[] row = tokenizer.encode77(prompts.get(i));
            for (int j = 0; j < row.length; j++) {
                ids[i * ClipTokenizer.CONTEXT_LENGTH + j] = row[j];
            }
        }
        Tensor idTensor = Tensor.ofLongs(ids, n, ClipTokenizer.CONTEXT_LENGTH).to(model.device());
        if (trainTextEncoder) {
            return model.clip().forward(idTensor);
        }
        try (var g = Autograd.noGrad()) {
            return model.clip().forward(idTensor);
        }
    }

    /** A host fp32 tensor on the model's device in its compute dtype (the tensor itself on the CPU). */
    private Tensor onModel(Tensor t) {
        return model.device() == Device.CPU ? t : t.to(model.device(), model.dtype() == DType.F32 ? DType.F32 : model.dtype());
    }
}
