package sdj.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import sdj.bench.profile.OpProfile;
import sdj.nn.AdapterRule;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;
import sdj.tensor.Tensor;
import sdj.train.DiffusionBatch;
import sdj.train.DiffusionLoss;
import sdj.train.DiffusionObjective;
import sdj.train.NoiseSchedule;
import sdj.train.optim.AdamW;
import sdj.train.optim.AdamW8bit;
import sdj.train.optim.GradClip;

/**
 * One fine-tuning optimizer step on the UNet with random weights (SD v1 sizes by default):
 * q_sample, forward, ε loss (DreamBooth: instance + prior term), backward, gradient clipping to
 * norm 1, AdamW or 8-bit AdamW update. The text context is data, as a frozen text encoder's output.
 * Seconds per step, GFLOP/s, the JVM's peak heap (weights, gradients, optimizer state, the tape)
 * and the bytes allocated per step.
 */
public final class TrainStepBench {
    private static final double MAX_GRAD_NORM = 1.0;
    private static final double LR = 1e-5;
    private static final double WEIGHT_DECAY = 1e-2;

    private TrainStepBench() {
    }

    /** What one bench run sets up. */
    public record Setup(UNetConfig config, TrainMethod method, int latent, int batch, int runs, boolean checkpointing,
            String optimizer) {
        public Setup {
            if (!optimizer.equals("adamw") && !optimizer.equals("adamw8bit")) {
                throw new IllegalArgumentException("unknown optimizer '" + optimizer + "': use adamw or adamw8bit");
            }
        }
    }

    /**
     * {@code seconds}: the best step, {@code stepSeconds} every timed one in order; {@code gflop}: 3 × the counted
     * forward of all samples; {@code trainable}: what the method marked.
     */
    public record Result(Setup setup, double seconds, double[] stepSeconds, double gflop, ParameterStore.TrainableCount trainable,
            long peakHeapBytes, long allocatedBytesPerStep) {
    }

    public static Result run(Setup s, long seed) {
        return run(s, seed, null);
    }

    /** With a profile: one more optimizer step after the timed ones, every op measured into it (null: none). */
    public static Result run(Setup s, long seed, OpProfile profile) {
        AdapterRule[] adapters = s.method().adapters().toArray(AdapterRule[]::new);
        ParameterStore store = ParameterStore.random(seed).withAdapters(adapters);
        UNetModel unet = new UNetModel(store.root().sub(UNetModel.PREFIX), s.config());
        unet.setGradientCheckpointing(s.checkpointing());
        store.setTraining(true);
        ParameterStore.TrainableCount count = store.setTrainable(s.method()::trains);
        List<Parameter> params = store.trainable();
        Runnable optimizerStep = s.optimizer().equals("adamw") ? AdamW.of(params, LR, WEIGHT_DECAY)::step
                : AdamW8bit.of(params, LR, WEIGHT_DECAY)::step;
        DiffusionBatch batch = randomBatch(s.config(), s.method().samples(s.batch()), s.latent());
        DiffusionLoss loss = s.method() == TrainMethod.DREAMBOOTH ? new DiffusionLoss(s.batch(), 1.0, Double.NaN)
                : DiffusionLoss.mse(s.batch());
        DiffusionObjective objective = new DiffusionObjective(NoiseSchedule.sdV1(), loss);
        Runnable step = () -> {
            params.forEach(p -> p.tensor().clearGradKeepingStorage()); // the next backward writes into them
            objective.forward(unet, batch).loss().backward();
            GradClip.clipGradNorm(params.stream().map(p -> p.tensor().grad()).toList(), MAX_GRAD_NORM);
            optimizerStep.run();
        };

        HeapMeter.resetPeaks();
        step.run(); // untimed: compiles the kernels and creates the optimizer state
        System.gc(); // moves the weights and moments to the old generation before the timed steps
        long allocatedBefore = HeapMeter.allocatedBytes();
        double best = Double.MAX_VALUE;
        double[] steps = new double[s.runs()];
        for (int i = 0; i < s.runs(); i++) {
            long t0 = System.nanoTime();
            step.run();
            steps[i] = (System.nanoTime() - t0) / 1e9;
            best = Math.min(best, steps[i]);
        }
        long allocated = (HeapMeter.allocatedBytes() - allocatedBefore) / s.runs();
        if (profile != null) {
            profile.measure(step);
        }
        // backward counted as twice the forward, whatever is frozen; adapters' and optimizer FLOPs not counted
        double gflop = 3 * UNetFlops.count(s.config(), s.latent(), s.method().samples(s.batch())) / 1e9;
        return new Result(s, best, steps, gflop, count, HeapMeter.peakHeap(), allocated);
    }

    /** Latents, noise and a 77-token context of N(0,1)-like values; timesteps spread over [0, 1000). */
    private static DiffusionBatch randomBatch(UNetConfig c, int samples, int latent) {
        int latentSize = samples * c.inChannels() * latent * latent;
        Tensor x0 = Tensor.of(Timing.random(latentSize, 7), samples, c.inChannels(), latent, latent);
        Tensor noise = Tensor.of(Timing.random(latentSize, 9), samples, c.inChannels(), latent, latent);
        Tensor context = Tensor.of(Timing.random(samples * 77 * c.contextDim(), 8), samples, 77, c.contextDim());
        long[] t = new long[samples];
        Arrays.setAll(t, i -> (long) (999L * (i + 1) / (samples + 1)));
        return new DiffusionBatch(x0, t, noise, context);
    }

    public static String header(Setup s, int threads) {
        return String.format(Locale.ROOT, "train %s (%s), UNet (model_channels %d, context %d) random weights, latent"
                + " %dx%d, %s, %d threads, gradient checkpointing %s, optimizer %s", s.method().flag(),
                s.method().trainsInWords(), s.config().modelChannels(), s.config().contextDim(), s.latent(), s.latent(),
                s.method().batchInWords(s.batch()), threads, s.checkpointing() ? "on" : "off", s.optimizer());
    }

    public static String describe(Result r, double peakGflops) {
        double rate = r.gflop() / r.seconds();
        Setup s = r.setup();
        return String.format(Locale.ROOT, "%.2f s per optimizer step (best of %d after 1 warm-up step; forward, loss,"
                + " backward, clip to norm %.0f, %s), %.1f GFLOP per step (3 forwards of %s), %.1f GFLOP/s = %.1f%%"
                + " of fp32 peak, %d trainable tensors = %d parameters, peak heap %.2f GiB, %.2f GiB allocated per step;"
                + " timed steps %s s",
                r.seconds(), s.runs(), MAX_GRAD_NORM, s.optimizer(), r.gflop(),
                TrainMethod.samples(s.method().samples(s.batch()), "sample"), rate,
                100 * rate / peakGflops, r.trainable().tensors(), r.trainable().elements(), HeapMeter.gib(r.peakHeapBytes()),
                HeapMeter.gib(r.allocatedBytesPerStep()), stepList(r.stepSeconds()));
    }

    /** "9.32 8.80 8.75": every timed step, so a slow first one (the heap still growing) shows. */
    private static String stepList(double[] seconds) {
        StringBuilder out = new StringBuilder();
        for (double t : seconds) {
            out.append(out.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.2f", t));
        }
        return out.toString();
    }
}
