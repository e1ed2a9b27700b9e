package sdj.cli;

import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.backend.cpu.Parallel;
import sdj.bench.GpuBenches;
import sdj.bench.KernelBenches;
import sdj.bench.Machine;
import sdj.bench.Timing;
import sdj.bench.TrainMethod;
import sdj.bench.TrainStepBench;
import sdj.bench.Txt2ImgBench;
import sdj.bench.UNetBench;
import sdj.bench.UNetTrainBench;
import sdj.bench.VaeBench;
import sdj.io.StateDicts;
import sdj.nn.ParameterStore;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.sd.unet.UNetConfig;
import sdj.sd.vae.VaeConfig;
import sdj.tensor.DType;
import sdj.tensor.Device;

/** `sdj bench KIND`: times one kernel at given shapes and prints GFLOP/s and the fraction of peak. */
public final class BenchCommand implements Command {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "time a kernel (gemm, conv, attention), a UNet forward, a UNet training step or a fine-tuning optimizer"
                + " step (cpu) or a whole txt2img on cpu"
                + " or cuda; prints FLOP/s and % of peak, or seconds per image";
    }

    @Override
    public String positional() {
        return "gemm|conv|attention|unet|vae|unet-train|train|txt2img";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("m").hasArg().desc("GEMM rows (default 1024)").build());
        o.addOption(Option.builder().longOpt("n").hasArg().desc("GEMM columns (default 1024)").build());
        o.addOption(Option.builder().longOpt("k").hasArg().desc("GEMM inner size (default 1024)").build());
        o.addOption(Option.builder().longOpt("batch").hasArg().desc("batch (conv, attention, unet, vae, unet-train,"
                + " train; default 1)").build());
        o.addOption(Option.builder().longOpt("channels").hasArg().desc("conv in/out channels (default 320)").build());
        o.addOption(Option.builder().longOpt("size").hasArg().desc("conv spatial size (default 64)").build());
        o.addOption(Option.builder().longOpt("kernel").hasArg().desc("conv kernel size (default 3)").build());
        o.addOption(Option.builder().longOpt("heads").hasArg().desc("attention heads (default 8)").build());
        o.addOption(Option.builder().longOpt("tokens").hasArg().desc("attention sequence length (default 4096)").build());
        o.addOption(Option.builder().longOpt("head-dim").hasArg().desc("attention head size (default 40)").build());
        o.addOption(Option.builder().longOpt("threads").hasArg().desc("worker threads (default: all cores)").build());
        o.addOption(Option.builder().longOpt("config").hasArg().desc("unet, vae, unet-train, train, txt2img: model config JSON (default:"
                + " SD v1 sizes)").build());
        o.addOption(Option.builder().longOpt("latent").hasArg().desc("unet, vae, unet-train, train: latent size (default 64 ="
                + " 512x512 images)").build());
        o.addOption(Option.builder().longOpt("runs").hasArg().desc("unet, vae: timed forwards or decodes (default 2); unet-train: timed"
                + " steps after an untimed one (default 1); train: timed optimizer steps after an untimed one (default 1);"
                + " txt2img: timed images (default 2)").build());
        o.addOption(Option.builder().longOpt("gradient-checkpointing").desc("unet-train, train: recompute each ResBlock's and"
                + " transformer block's activations in backward instead of keeping them").build());
        o.addOption(Option.builder().longOpt("method").hasArg().desc("train: dreambooth (whole UNet, B instance + B class"
                + " samples), cd (Custom Diffusion's attn2 to_k/to_v) or lora (kohya's default UNet targets, rank 4, alpha 1);"
                + " default dreambooth").build());
        o.addOption(Option.builder().longOpt("optimizer").hasArg().desc("train: adamw or adamw8bit (default adamw)").build());
        o.addOption(Option.builder().longOpt("steps").hasArg().desc("txt2img: sampler steps (default 50)").build());
        o.addOption(Option.builder().longOpt("sampler").hasArg().desc("txt2img: sampler (default ddim)").build());
        o.addOption(Option.builder().longOpt("W").hasArg().desc("txt2img: width (default 512)").build());
        o.addOption(Option.builder().longOpt("H").hasArg().desc("txt2img: height (default 512)").build());
        o.addOption(Option.builder().longOpt("ckpt").hasArg().desc("txt2img, unet: load this checkpoint instead of random"
                + " weights (fp32 ones read in place from its map; for txt2img the load counts in the time to first step)")
                .build());
        o.addOption(Option.builder().longOpt("vocab").hasArg().desc("txt2img: CLIP BPE vocabulary (default: found"
                + " as for txt2img)").build());
        o.addOption(Option.builder().longOpt("seconds").hasArg().desc("minimum timed seconds (default 3)").build());
        o.addOption(Option.builder().longOpt("baseline").hasArg()
                .desc("gemm: also time a native library at the same shape, in the same run (openblas)").build());
        return DeviceFlags.addTo(ProfileFlags.addTo(o));
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        if (cmd.getArgs().length != 1) {
            throw new UserError("say what to bench: gemm, conv, attention, unet, vae, unet-train, train or txt2img (e.g."
                    + " 'sdj bench gemm --m 1024 --n 1024 --k 1024')");
        }
        if (cmd.hasOption("threads")) {
            Parallel.setThreads(Flags.intOpt(cmd, "threads", 0));
        }
        double seconds = Double.parseDouble(cmd.getOptionValue("seconds", "3"));
        String kind = cmd.getArgs()[0];
        if (kind.equals("train") && "cuda".equals(cmd.getOptionValue("device"))) {
            // before DeviceFlags looks for a GPU: the refusal is the same with or without one
            throw new UserError("'sdj bench train' runs on the cpu only so far; leave out --device cuda");
        }
        if (ProfileFlags.requested(cmd) != null && !java.util.Set.of("unet", "vae", "unet-train", "train").contains(kind)) {
            throw new UserError("--profile works with 'sdj bench unet', 'vae', 'unet-train' and 'train'; leave it out for "
                    + kind);
        }
        DeviceFlags placement = DeviceFlags.parse(cmd);
        if (ProfileFlags.requested(cmd) != null && placement.device() == Device.CUDA) {
            throw new UserError("--profile times ops on the cpu only (GPU kernels run asynchronously); leave out"
                    + " --device cuda");
        }
        if (kind.equals("txt2img")) {
            return benchTxt2Img(cmd, placement);
        }
        if (kind.equals("unet-train")) {
            if (placement.device() == Device.CUDA) {
                throw new UserError("'sdj bench unet-train' runs on the cpu only so far; leave out --device cuda");
            }
            benchUnetTrain(cmd);
            return 0;
        }
        if (kind.equals("train")) {
            benchTrain(cmd);
            return 0;
        }
        if (placement.device() == Device.CUDA) {
            return benchCuda(kind, cmd, placement.dtype(), seconds);
        }
        Timing.Result r = switch (kind) {
            case "gemm" -> KernelBenches.gemm(Flags.intOpt(cmd, "m", 1024), Flags.intOpt(cmd, "n", 1024),
                    Flags.intOpt(cmd, "k", 1024), seconds);
            case "conv" -> KernelBenches.conv(Flags.intOpt(cmd, "batch", 1), Flags.intOpt(cmd, "channels", 320),
                    Flags.intOpt(cmd, "size", 64), Flags.intOpt(cmd, "kernel", 3), seconds);
            case "attention" -> KernelBenches.attention(Flags.intOpt(cmd, "batch", 1),
                    Flags.intOpt(cmd, "heads", 8), Flags.intOpt(cmd, "tokens", 4096), Flags.intOpt(cmd, "head-dim", 40),
                    seconds);
            case "unet" -> {
                benchUnet(cmd);
                yield null;
            }
            case "vae" -> {
                benchVae(cmd);
                yield null;
            }
            default -> throw new UserError("unknown bench '" + kind + "': use gemm, conv, attention, unet, vae, unet-train,"
                    + " train or txt2img");
        };
        if (r == null) {
            return 0;
        }
        double peak = Machine.fp32PeakGflops(Parallel.threads());
        System.out.println(r.label());
        System.out.printf(Locale.ROOT, "time: %.3f ms per call (best of %d)%n", r.bestSeconds() * 1e3, r.calls());
        System.out.printf(Locale.ROOT, "%.1f GFLOP/s = %.1f%% of fp32 peak %.0f GFLOP/s (%d threads, %s)%n",
                r.gflops(), 100 * r.gflops() / peak, peak, Parallel.threads(), Machine.describe());
        if (cmd.hasOption("baseline")) {
            if (!kind.equals("gemm") || !cmd.getOptionValue("baseline").equals("openblas")) {
                throw new UserError("--baseline openblas is available for 'sdj bench gemm' only");
            }
            NativeBaseline.openBlasGemm(r, Flags.intOpt(cmd, "m", 1024), Flags.intOpt(cmd, "n", 1024),
                    Flags.intOpt(cmd, "k", 1024), seconds, peak);
        }
        return 0;
    }

    /** The same benches on the GPU, reported against the H200's peak for the dtype. */
    private static int benchCuda(String kind, CommandLine cmd, DType dtype, double seconds) throws Exception {
        System.out.println("device: " + GpuBenches.describe());
        if (kind.equals("unet")) {
            int latent = Flags.intOpt(cmd, "latent", 64);
            int batch = Flags.intOpt(cmd, "batch", 1);
            UNetConfig config = Flags.modelConfigs(cmd).unet();
            System.out.printf(Locale.ROOT, "UNet (model_channels %d, context %d) random weights, latent %dx%d, batch %d, %s%n",
                    config.modelChannels(), config.contextDim(), latent, latent, batch, dtype.name().toLowerCase());
            UNetBench.Result r = UNetBench.run(config, latent, batch, Flags.intOpt(cmd, "runs", 5), 1, Device.CUDA, dtype);
            System.out.println(UNetBench.describeGpu(r, dtype));
            return 0;
        }
        Timing.Result r = switch (kind) {
            case "gemm" -> GpuBenches.gemm(Flags.intOpt(cmd, "m", 1024), Flags.intOpt(cmd, "n", 1024),
                    Flags.intOpt(cmd, "k", 1024), dtype, seconds);
            case "conv" -> GpuBenches.conv(Flags.intOpt(cmd, "batch", 1), Flags.intOpt(cmd, "channels", 320),
                    Flags.intOpt(cmd, "size", 64), Flags.intOpt(cmd, "kernel", 3), dtype, seconds);
            case "attention" -> GpuBenches.attention(Flags.intOpt(cmd, "batch", 1), Flags.intOpt(cmd, "heads", 8),
                    Flags.intOpt(cmd, "tokens", 4096), Flags.intOpt(cmd, "head-dim", 40), dtype, seconds);
            default -> throw new UserError("unknown bench '" + kind + "': use gemm, conv, attention, unet or txt2img");
        };
        System.out.println(r.label());
        System.out.printf(Locale.ROOT, "time: %.4f ms per call (best of %d)%n", r.bestSeconds() * 1e3, r.calls());
        System.out.println(GpuBenches.rate(r.flops(), r.bestSeconds(), dtype));
        return 0;
    }

    /** Prompt to pixels with random SD v1 weights (or --config's sizes), the peers' seconds-per-image yardstick. */
    private static int benchTxt2Img(CommandLine cmd, DeviceFlags placement) throws Exception {
        ModelConfigs configs = Flags.modelConfigs(cmd);
        java.nio.file.Path vocab = ClipVocabLocator.locate(cmd.getOptionValue("vocab"));
        if (placement.device() == Device.CUDA) {
            System.out.println("device: " + GpuBenches.describe());
        }
        String ckpt = cmd.getOptionValue("ckpt");
        // the load as txt2img does it: a checkpoint is opened while the vocabulary is read
        java.util.concurrent.Callable<StableDiffusion> load = ckpt == null
                ? () -> new StableDiffusion(StableDiffusionModel.random(configs, 1, placement.device(), placement.dtype()),
                        ClipTokenizer.load(vocab))
                : () -> StableDiffusion.load(VerifyCommand.existing(ckpt, "--ckpt"), configs,
                        StableDiffusion.tokenizerInBackground(() -> ClipTokenizer.load(vocab)), placement.device(),
                        placement.dtype());
        int steps = Flags.intOpt(cmd, "steps", 50);
        int w = Flags.intOpt(cmd, "W", 512);
        int h = Flags.intOpt(cmd, "H", 512);
        String sampler = cmd.getOptionValue("sampler", "ddim");
        GenerationRequest request = GenerationRequest.txt2img("a photograph of an astronaut riding a horse")
                .withSampler(sampler, false).withSize(w, h).withSteps(steps, 7.5f, 42);
        Txt2ImgBench.Result r = Txt2ImgBench.run(load, request, Flags.intOpt(cmd, "runs", 2));
        System.out.println(r.describe(String.format(Locale.ROOT, "txt2img %dx%d, %d %s steps with CFG 7.5, %s,"
                + " %s", w, h, steps, sampler, ckpt == null ? "random weights" : ckpt, placement.label())));
        System.out.println(r.describeStartAndMemory());
        System.out.println(Txt2ImgBench.PEERS);
        return 0;
    }

    private static void benchUnet(CommandLine cmd) throws Exception {
        int latent = Flags.intOpt(cmd, "latent", 64);
        int batch = Flags.intOpt(cmd, "batch", 1);
        UNetConfig config = Flags.modelConfigs(cmd).unet();
        String ckpt = cmd.getOptionValue("ckpt");
        System.out.printf(Locale.ROOT, "UNet (model_channels %d, context %d) %s, latent %dx%d, batch %d, %d threads%n",
                config.modelChannels(), config.contextDim(), ckpt == null ? "random weights" : "weights of " + ckpt
                + " (fp32 read in place from its map)", latent, latent, batch, Parallel.threads());
        var profile = ProfileFlags.requested(cmd);
        int runs = Flags.intOpt(cmd, "runs", 2);
        UNetBench.Result r = ckpt == null
                ? UNetBench.run(config, latent, batch, runs, 1, Device.CPU, DType.F32, profile)
                : UNetBench.run(ParameterStore.fromStateDict(StateDicts.load(VerifyCommand.existing(ckpt, "--ckpt")), ckpt),
                        config, latent, batch, runs, Device.CPU, DType.F32, profile);
        System.out.println(UNetBench.describe(r, Machine.fp32PeakGflops(Parallel.threads())));
        System.out.printf(Locale.ROOT, "activation arena %s (-Dsdj.arena=on|off|check), its pool %.2f GiB after the forwards%n",
                sdj.tensor.ActivationArena.mode().name().toLowerCase(Locale.ROOT),
                sdj.tensor.ActivationArena.pooledBytes() / (double) (1L << 30));
        ProfileFlags.report(cmd, profile, String.format(Locale.ROOT, "unet latent %d batch %d", latent, batch));
    }

    /** A VAE decode of random latents with random weights (SD v1 sizes, or --config's). */
    private static void benchVae(CommandLine cmd) throws Exception {
        int latent = Flags.intOpt(cmd, "latent", 64);
        int batch = Flags.intOpt(cmd, "batch", 1);
        VaeConfig config = Flags.modelConfigs(cmd).vae();
        System.out.printf(Locale.ROOT, "VAE decode (ch %d) random weights, latent %dx%d to %dx%d images, batch %d, %d threads%n",
                config.ch(), latent, latent, 8 * latent, 8 * latent, batch, Parallel.threads());
        var profile = ProfileFlags.requested(cmd);
        VaeBench.Result r = VaeBench.run(config, latent, batch, Flags.intOpt(cmd, "runs", 2), 1, profile);
        System.out.println(VaeBench.describe(r, Machine.fp32PeakGflops(Parallel.threads())));
        ProfileFlags.report(cmd, profile, String.format(Locale.ROOT, "vae decode latent %d batch %d", latent, batch));
    }

    private static void benchUnetTrain(CommandLine cmd) throws Exception {
        int latent = Flags.intOpt(cmd, "latent", 64);
        int batch = Flags.intOpt(cmd, "batch", 1);
        int runs = Flags.intOpt(cmd, "runs", 1);
        boolean checkpointing = cmd.hasOption("gradient-checkpointing");
        UNetConfig config = Flags.modelConfigs(cmd).unet();
        checkTrainSizes(config, latent, batch, runs);
        System.out.printf(Locale.ROOT, "UNet training step (model_channels %d, context %d), random weights all trainable, MSE"
                + " loss, latent %dx%d, batch %d, %d threads, gradient checkpointing %s%n", config.modelChannels(),
                config.contextDim(), latent, latent, batch, Parallel.threads(), checkpointing ? "on" : "off");
        var profile = ProfileFlags.requested(cmd);
        UNetTrainBench.Result r = UNetTrainBench.run(config, latent, batch, runs, 1, checkpointing, profile);
        System.out.println(UNetTrainBench.describe(r, Machine.fp32PeakGflops(Parallel.threads())));
        ProfileFlags.report(cmd, profile, String.format(Locale.ROOT, "unet-train latent %d batch %d", latent, batch));
    }

    /** A fine-tuning optimizer step: the method's trainable set, loss, clipping and optimizer (issue #15's bench). */
    private static void benchTrain(CommandLine cmd) throws Exception {
        int latent = Flags.intOpt(cmd, "latent", 64);
        int batch = Flags.intOpt(cmd, "batch", 1);
        int runs = Flags.intOpt(cmd, "runs", 1);
        UNetConfig config = Flags.modelConfigs(cmd).unet();
        checkTrainSizes(config, latent, batch, runs);
        TrainStepBench.Setup setup;
        try {
            setup = new TrainStepBench.Setup(config, TrainMethod.fromFlag(cmd.getOptionValue("method", "dreambooth")), latent,
                    batch, runs, cmd.hasOption("gradient-checkpointing"), cmd.getOptionValue("optimizer", "adamw"));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        System.out.println(TrainStepBench.header(setup, Parallel.threads()));
        var profile = ProfileFlags.requested(cmd);
        TrainStepBench.Result r = TrainStepBench.run(setup, 1, profile);
        System.out.println(TrainStepBench.describe(r, Machine.fp32PeakGflops(Parallel.threads())));
        ProfileFlags.report(cmd, profile, TrainStepBench.header(setup, Parallel.threads()));
    }

    private static void checkTrainSizes(UNetConfig config, int latent, int batch, int runs) {
        int multiple = 1 << (config.channelMult().length - 1); // each level but the last halves the latent
        if (latent < 1 || latent % multiple != 0) {
            throw new UserError("--latent must be a positive multiple of " + multiple + " (the UNet halves it "
                    + (config.channelMult().length - 1) + " times), got " + latent);
        }
        if (batch < 1 || runs < 1) {
            throw new UserError("--batch and --runs must be at least 1, got " + batch + " and " + runs);
        }
    }
}
