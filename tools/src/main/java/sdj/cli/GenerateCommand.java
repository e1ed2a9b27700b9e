package sdj.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.backend.cpu.Parallel;
import sdj.backend.cuda.Cuda;
import sdj.image.Images;
import sdj.image.PngWriter;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.lora.LoraRequest;
import sdj.sd.pipeline.A1111Parameters;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.ModelHash;
import sdj.sd.pipeline.SizeCheck;
import sdj.sd.pipeline.StableDiffusion;
import sdj.sd.vae.VaeTiling;
import sdj.shapes.EmbeddedModel;
import sdj.tensor.Device;

/**
 * What txt2img and img2img share: the CompVis/A1111 flags, model loading with a clear message when
 * the checkpoint is missing, the progress bar, and numbered PNGs carrying A1111 "parameters" text
 * ({@link A1111Parameters}).
 */
abstract class GenerateCommand implements Command {
    /** Flags both commands take. */
    Options commonOptions() {
        return commonOptions(true);
    }

    /** As above; {@code promptRequired} false for a command whose prompts come from elsewhere. */
    Options commonOptions(boolean promptRequired) {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("prompt").hasArg().required(promptRequired).desc("what to draw").build());
        o.addOption(Option.builder().longOpt("negative-prompt").hasArg().desc("what to steer away from (default empty)")
                .build());
        o.addOption(Option.builder().longOpt("ckpt").hasArg().desc("checkpoint (default " + ModelChoice.SD_V1_4
                + " when present, else sdj's own small model " + ModelChoice.EMBEDDED + ")").build());
        o.addOption(Option.builder().longOpt("config").hasArg()
                .desc("model config JSON (default models/sd-v1.json; sizes are also detected from the weights)").build());
        o.addOption(Option.builder().longOpt("vocab").hasArg().desc("CLIP BPE vocabulary (default models/clip/...)").build());
        o.addOption(Option.builder().longOpt("sampler").hasArg()
                .desc("ddim|plms|euler|euler_a|heun|lms|dpmpp_2m|ddpm (default " + defaultSampler() + ")").build());
        o.addOption(Option.builder().longOpt("karras").desc("Karras sigma schedule (k-diffusion samplers)").build());
        o.addOption(Option.builder().longOpt("steps").hasArg().desc("sampling steps (default 50)").build());
        o.addOption(Option.builder().longOpt("scale").hasArg().desc("classifier-free guidance scale (default 7.5)").build());
        o.addOption(Option.builder().longOpt("eta").hasArg().desc("DDIM eta (default 0)").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().desc("seed of the first image; image i uses seed+i (default 42)")
                .build());
        o.addOption(Option.builder().longOpt("W").hasArg().desc("image width, a multiple of 8 (default 512)").build());
        o.addOption(Option.builder().longOpt("H").hasArg().desc("image height, a multiple of 8 (default 512)").build());
        o.addOption(Option.builder().longOpt("n-samples").hasArg().desc("images per batch (default 1)").build());
        o.addOption(Option.builder().longOpt("n-iter").hasArg().desc("number of batches (default 1)").build());
        o.addOption(Option.builder().longOpt("outdir").hasArg().desc("output folder (default " + defaultOutdir() + ")")
                .build());
        LoraLoadFlags.addTo(o);
        o.addOption(Option.builder().longOpt("threads").hasArg().desc("CPU threads (default: all cores)").build());
        o.addOption(Option.builder().longOpt("vae-tiling")
                .desc("VAE decode (and img2img encode) in overlapping 512x512 tiles: large images in 512x512's memory")
                .build());
        o.addOption(Option.builder().longOpt("delta-ckpt").hasArg().argName("FILE")
                .desc("Custom Diffusion delta (adobe delta.ckpt, compressed or not, or diffusers"
                        + " pytorch_custom_diffusion_weights file/folder): adds its tokens and attn2 weights").build());
        o.addOption(Option.builder().longOpt("embeddings").hasArg().argName("DIR|FILE")
                .desc("textual-inversion embeddings (A1111 .pt/.safetensors, diffusers {token: tensor}, plain tensor;"
                        + " multi-vector included)").build());
        return DeviceFlags.addTo(o);
    }

    abstract String defaultOutdir();

    String defaultSampler() {
        return "plms";
    }

    /**
     * The request from the shared flags (no init image); the embedded model has its own defaults for the
     * sampler, the steps and the guidance scale.
     */
    GenerationRequest baseRequest(CommandLine cmd, ModelChoice model, int defaultW, int defaultH) {
        boolean own = shapesDefaults(model);
        int w = Flags.intOpt(cmd, "W", defaultW);
        int h = Flags.intOpt(cmd, "H", defaultH);
        if (w % 8 != 0 || h % 8 != 0 || w <= 0 || h <= 0) {
            throw new UserError("--W and --H must be positive multiples of 8, got " + w + "x" + h);
        }
        try {
            return new GenerationRequest(cmd.getOptionValue("prompt"), cmd.getOptionValue("negative-prompt", ""),
                    cmd.getOptionValue("sampler", own ? EmbeddedModel.SAMPLER : defaultSampler()),
                    cmd.hasOption("karras"), Flags.intOpt(cmd, "steps", own ? EmbeddedModel.STEPS : 50),
                    (float) Flags.doubleOpt(cmd, "scale", own ? EmbeddedModel.SCALE : 7.5),
                    Flags.longOpt(cmd, "seed", 42), w, h,
                    Flags.intOpt(cmd, "n-samples", 1), Flags.intOpt(cmd, "n-iter", 1), Flags.doubleOpt(cmd, "eta", 0),
                    null, 0.75, null);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** Whether the embedded model's sampling defaults apply (it draws, or the command is made for such models). */
    boolean shapesDefaults(ModelChoice model) {
        return model.embedded();
    }

    /** The tiling --vae-tiling asks for, or null. */
    static VaeTiling vaeTiling(CommandLine cmd) {
        return cmd.hasOption("vae-tiling") ? VaeTiling.DEFAULT : null;
    }

    /**
     * Stops a CPU request too large for this JVM before the checkpoint is read (the weights' share is
     * the checkpoint's size); on CUDA the activations live in device memory, which its allocator reports.
     */
    static void checkSize(CommandLine cmd, ModelChoice model, GenerationRequest r) throws IOException {
        if (DeviceFlags.parse(cmd).device() != Device.CPU) {
            return;
        }
        int threads = cmd.hasOption("threads") ? Flags.intOpt(cmd, "threads", Parallel.threads()) : Parallel.threads();
        // the weights take no heap: fp32 ones are read in place from the map, others copied to native memory
        String refusal = SizeCheck.refusal(model.configs(), r, vaeTiling(cmd), 0,
                Runtime.getRuntime().maxMemory(), threads);
        if (refusal != null) {
            throw new UserError(refusal);
        }
    }

    /** Loads the chosen model, saying so when it is the embedded one. */
    StableDiffusion loadModel(CommandLine cmd, ModelChoice model) throws IOException {
        return loadModel(cmd, model, tokenizerInBackground(cmd));
    }

    /**
     * The --vocab tokenizer (or the one found as ClipVocabLocator says), read on another thread from now; a
     * missing vocabulary is reported when the load needs it, after any error in the checkpoint's choice.
     */
    static Future<ClipTokenizer> tokenizerInBackground(CommandLine cmd) {
        String flag = cmd.getOptionValue("vocab");
        return StableDiffusion.tokenizerInBackground(() -> ClipTokenizer.load(ClipVocabLocator.locate(flag)));
    }

    /** Loads the chosen model with its personalizations and LoRAs while {@code tokenizer} is read. */
    StableDiffusion loadModel(CommandLine cmd, ModelChoice model, Future<ClipTokenizer> tokenizer) throws IOException {
        if (cmd.hasOption("threads")) {
            Parallel.setThreads(Flags.intOpt(cmd, "threads", Parallel.threads()));
        }
        DeviceFlags placement = DeviceFlags.parse(cmd);
        Path ckpt = model.checkpoint();
        ModelConfigs configs = model.configs();
        if (model.embedded()) {
            System.err.println(model.notice());
        }
        List<LoraRequest> loras = LoraLoadFlags.requests(cmd); // before the load: a bad tag fails fast
        long t0 = System.nanoTime();
        StableDiffusion sd = StableDiffusion.load(ckpt, configs, tokenizer, placement.device(), placement.dtype());
        Personalization.apply(cmd, sd, configs);
        System.err.printf(Locale.ROOT, "loaded %s in %.1f s on %s%n", ckpt, (System.nanoTime() - t0) / 1e9,
                placement.label());
        LoraLoadFlags.applyTo(sd, loras);
        return sd.withVaeTiling(vaeTiling(cmd)).releasingPages();
    }

    /** Runs the request with a progress bar and writes numbered PNGs; prints each path. */
    int generateAndSave(StableDiffusion sd, GenerationRequest r, CommandLine cmd, Path checkpoint) throws IOException {
        Path outdir = Path.of(cmd.getOptionValue("outdir", defaultOutdir()));
        Path samples = outdir.resolve("samples");
        Files.createDirectories(samples);
        ProgressBar bar = new ProgressBar(System.err);
        List<StableDiffusion.GeneratedImage> images = sd.generate(r, bar);
        bar.finish();
        if (sd.model().device() == Device.CUDA) {
            System.err.println("cuda memory: " + Cuda.device().memoryStats());
        }
        int next = nextIndex(samples);
        String hash = ModelHash.of(checkpoint);
        List<Path> written = new ArrayList<>();
        for (StableDiffusion.GeneratedImage img : images) {
            BufferedImage pixels = Images.fromTensor(img.pixels(), 0);
            Path file = samples.resolve(String.format(Locale.ROOT, "%05d.png", next++));
            Map<String, String> text = new LinkedHashMap<>();
            text.put(A1111Parameters.PNG_KEYWORD, A1111Parameters.of(r, img.seed(), hash, checkpoint));
            PngWriter.write(file, pixels, text);
            written.add(file);
            System.out.println(file);
        }
        return written.isEmpty() ? 1 : 0;
    }

    /** Continues numbering after the PNGs already in the folder, as CompVis's base_count does. */
    static int nextIndex(Path samples) throws IOException {
        try (var files = Files.list(samples)) {
            return (int) files.filter(p -> p.getFileName().toString().matches("\\d{5}\\.png")).count();
        }
    }
}
