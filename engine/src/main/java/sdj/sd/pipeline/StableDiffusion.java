package sdj.sd.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import sdj.io.StateDicts;
import sdj.ops.Join;
import sdj.random.TorchGenerator;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.sample.CfgEpsModel;
import sdj.sd.sample.EpsModel;
import sdj.sd.sample.ProgressListener;
import sdj.sd.sample.Sampler;
import sdj.sd.sample.SamplerOptions;
import sdj.sd.sample.Samplers;
import sdj.sd.sample.Schedule;
import sdj.sd.sample.StepHook;
import sdj.sd.unet.UNetModel;
import sdj.sd.vae.VaeTiling;
import sdj.tensor.ActivationArena;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The library entry point: a loaded SD v1 model plus tokenizer that turns a {@link GenerationRequest}
 * into images.
 *
 * <pre>{@code
 * StableDiffusion sd = StableDiffusion.load(Path.of("models/sd-v1-4.ckpt"), ModelConfigs.SD_V1, tokenizer);
 * List<GeneratedImage> images = sd.txt2img(GenerationRequest.txt2img("a photo of a cat"), ProgressListener.NONE);
 * }</pre>
 *
 * <p>Seeds: image i of the run (over all batches) starts from {@code torch.manual_seed(seed + i);
 * torch.randn(4, H/8, W/8)}, so any single image can be reproduced alone with its own seed. Ancestral
 * samplers draw their per-step noise from a generator seeded with the batch's first seed.
 */
public final class StableDiffusion {
    private final StableDiffusionModel model;
    private final TextConditioning text;
    private final Schedule schedule;
    /** Null: the VAE works on the whole image. */
    private final VaeTiling vaeTiling;
    /** Whether each network's mapped weight pages are released once its stage is done (see {@link #releasingPages}). */
    private final boolean releasePages;

    public StableDiffusion(StableDiffusionModel model, ClipTokenizer tokenizer) {
        this.model = model;
        this.text = new TextConditioning(model.clip(), tokenizer);
        float[] ac = model.alphasCumprod();
        this.schedule = ac != null ? new Schedule(ac) : Schedule.sdV1();
        this.vaeTiling = null;
        this.releasePages = false;
    }

    private StableDiffusion(StableDiffusion base, VaeTiling vaeTiling, boolean releasePages) {
        this.model = base.model;
        this.text = base.text;
        this.schedule = base.schedule;
        this.vaeTiling = vaeTiling;
        this.releasePages = releasePages;
    }

    /** The same model with the VAE decoding (and encoding) tile by tile, or whole when {@code tiling} is null. */
    public StableDiffusion withVaeTiling(VaeTiling tiling) {
        return new StableDiffusion(this, tiling, releasePages);
    }

    /**
     * The same model releasing the resident pages of its mapped weights once each stage is done with
     * them: CLIP's after the prompts are encoded, the UNet's before the VAE decodes (a one-shot command's
     * memory peak is then the larger stage, not their sum; a second image faults the UNet back in from the
     * page cache, about a second for SD v1).
     */
    public StableDiffusion releasingPages() {
        return new StableDiffusion(this, vaeTiling, true);
    }

    /** Loads a checkpoint (.ckpt or .safetensors) with the given base configs (sizes are detected from the weights). */
    public static StableDiffusion load(Path checkpoint, ModelConfigs configs, ClipTokenizer tokenizer) throws IOException {
        return load(checkpoint, configs, tokenizer, Device.CPU, DType.F32);
    }

    /** Loads with every weight converted once to {@code dtype} on {@code device} (e.g. CUDA, F16). */
    public static StableDiffusion load(Path checkpoint, ModelConfigs configs, ClipTokenizer tokenizer, Device device,
            DType dtype) throws IOException {
        return new StableDiffusion(model(checkpoint, configs, device, dtype), tokenizer);
    }

    private static StableDiffusionModel model(Path checkpoint, ModelConfigs configs, Device device, DType dtype)
            throws IOException {
        return StableDiffusionModel.fromStateDict(StateDicts.load(checkpoint), configs, checkpoint.toString(), device,
                dtype);
    }

    /**
     * Starts reading a tokenizer's vocabulary on a daemon thread: it takes a few tenths of a second in a fresh
     * JVM, time a one-shot command can spend opening the checkpoint instead of waiting.
     */
    public static Future<ClipTokenizer> tokenizerInBackground(Callable<ClipTokenizer> read) {
        FutureTask<ClipTokenizer> task = new FutureTask<>(read);
        Thread.ofPlatform().daemon().name("sdj-tokenizer").start(task);
        return task;
    }

    /**
     * Loads a checkpoint while {@code tokenizer} is read (see {@link #tokenizerInBackground}), then makes CLIP's
     * mapped weights resident: what a one-shot command waits for before its prompt is encoded. A failure to
     * read the vocabulary is thrown as it was raised.
     */
    public static StableDiffusion load(Path checkpoint, ModelConfigs configs, Future<ClipTokenizer> tokenizer,
            Device device, DType dtype) throws IOException {
        StableDiffusionModel model = model(checkpoint, configs, device, dtype);
        model.loadMappedPages(ClipTextModel.PREFIX);
        try {
            return new StableDiffusion(model, tokenizer.get());
        } catch (ExecutionException e) {
            throw rethrown(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while the CLIP vocabulary was read");
        }
    }

    private static IOException rethrown(Throwable cause) {
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof RuntimeException r) {
            throw r;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        return new IOException(cause);
    }

    public StableDiffusionModel model() {
        return model;
    }

    public ClipTokenizer tokenizer() {
        return text.tokenizer();
    }

    /** One finished image: pixels [1, 3, H, W] in [−1, 1] and the seed that reproduces it. */
    public record GeneratedImage(Tensor pixels, long seed, int index) {
    }

    /** Told when a batch starts, so a progress display can label it. */
    public interface Listener extends ProgressListener {
        default void onBatch(int batch, int batches) {
        }
    }

    /** txt2img, or img2img/inpainting when the request carries an init image. */
    public List<GeneratedImage> generate(GenerationRequest r, Listener listener) {
        SamplerOptions options = SamplerOptions.defaults().withSchedule(schedule).withEta(r.eta()).withKarras(r.karras());
        Sampler sampler = Samplers.byName(r.sampler(), options);
        List<GeneratedImage> out = new ArrayList<>();
        try (var g = Autograd.noGrad()) {
            Tensor[] contexts = text.encodePair(r.prompt(), r.negativePrompt());
            if (releasePages) {
                model.releaseMappedPages(ClipTextModel.PREFIX);
            }
            // Prompts are encoded and latents sampled on the host; the networks run on the model's device.
            Device device = model.device();
            Tensor context = batchContext(contexts[1], contexts[0], r.batchSize()).to(device, model.dtype());
            EpsModel eps = new CfgEpsModel(model.unetEps(), context, r.scale());
            Tensor initLatent = r.initImage() == null ? null
                    : encodeMean(r.initImage().to(device, model.dtype())).to(Device.CPU, DType.F32)
                            .mul(model.configs().scaleFactor());
            int h = r.height() / 8;
            int w = r.width() / 8;
            for (int batch = 0; batch < r.batchCount(); batch++) {
                listener.onBatch(batch + 1, r.batchCount());
                long firstSeed = r.seedOf(batch * r.batchSize());
                Tensor noise = TorchGenerator.batchNoise(firstSeed, r.batchSize(), 4, h, w);
                TorchGenerator rng = new TorchGenerator(firstSeed);
                Tensor latents = initLatent == null
                        ? sampler.sample(eps, noise, r.steps(), rng, listener)
                        : fromImage(sampler, options, eps, initLatent, noise, r, rng, listener);
                // the UNet's recycled activations are not needed by the decode: give them to the GC before it
                ActivationArena.releasePool();
                if (releasePages) {
                    model.releaseMappedPages(UNetModel.PREFIX);
                }
                for (int i = 0; i < r.batchSize(); i++) {
                    Tensor z = latents.narrow(0, i, 1).mul(1f / model.configs().scaleFactor());
                    int index = batch * r.batchSize() + i;
                    Tensor pixels = decode(z.to(device, model.dtype())).to(Device.CPU, DType.F32);
                    out.add(new GeneratedImage(pixels, r.seedOf(index), index));
                }
                ActivationArena.releasePool(); // the decoder's recycled activations, 128 MiB each at 512²
            }
        }
        return out;
    }

    private Tensor decode(Tensor z) {
        return vaeTiling == null ? model.vae().decode(z) : model.vae().decodeTiled(z, vaeTiling);
    }

    private Tensor encodeMean(Tensor image) {
        return vaeTiling == null ? model.vae().encodeMean(image) : model.vae().encodeMeanTiled(image, vaeTiling);
    }

    /**
     * img2img: noise the image latents to the strength's starting step and denoise from there. With
     * a mask, the known region (mask 0) is pasted back, noised to the current level, before every
     * step and once more at the end (CompVis-style latent inpainting with a standard checkpoint).
     */
    private static Tensor fromImage(Sampler sampler, SamplerOptions options, EpsModel eps, Tensor initLatent, Tensor noise, GenerationRequest r,
            TorchGenerator rng, ProgressListener progress) {
        int b = noise.size(0);
        Tensor x0 = initLatent.expand(b, initLatent.size(1), initLatent.size(2), initLatent.size(3)).contiguous();
        int start = sampler.startIndexForStrength(r.steps(), r.strength());
        Tensor xStart = sampler.noise(x0, noise, r.steps(), start);
        if (r.mask() == null) {
            return sampler.sampleFrom(eps, xStart, r.steps(), start, rng, progress);
        }
        Tensor keep = Tensor.ones(r.mask().shape()).sub(r.mask());
        StepHook paste = (x, stepIndex) -> x.mul(r.mask()).add(sampler.noise(x0, noise, r.steps(), stepIndex).mul(keep));
        Sampler masked = Samplers.byName(sampler.name(), options.withHook(paste));
        Tensor x = masked.sampleFrom(eps, xStart, r.steps(), start, rng, progress);
        return x.mul(r.mask()).add(x0.mul(keep));
    }

    /** [uncond × B; cond × B] along the batch axis, the order CompVis samplers expect. */
    private static Tensor batchContext(Tensor uncond, Tensor cond, int batch) {
        List<Tensor> parts = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            parts.add(uncond);
        }
        for (int i = 0; i < batch; i++) {
            parts.add(cond);
        }
        return Join.cat(parts, 0);
    }
}
