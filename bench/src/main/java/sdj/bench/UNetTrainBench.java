package sdj.bench;

import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import sdj.bench.profile.OpProfile;
import sdj.nn.ParameterStore;
import sdj.ops.F;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;
import sdj.tensor.Tensor;

/**
 * One UNet training step with random weights, every parameter trainable: forward, MSE of ε against a
 * fixed target, backward (no optimizer). Seconds per step, GFLOP/s, the heap the tape keeps after the
 * forward (what gradient checkpointing saves), the JVM's peak heap and the bytes allocated per step.
 */
public final class UNetTrainBench {
    private UNetTrainBench() {
    }

    /** {@code tapeBytes}: live heap after the forward minus before it, both measured after a full GC. */
    public record Result(double seconds, double gflop, long tapeBytes, long peakHeapBytes, long allocatedBytesPerStep,
            int runs, boolean checkpointing) {
    }

    public static Result run(UNetConfig config, int latent, int batch, int runs, long seed, boolean checkpointing) {
        return run(config, latent, batch, runs, seed, checkpointing, null);
    }

    /** With a profile: one more step after the timed ones, every op measured into it (null: none). */
    public static Result run(UNetConfig config, int latent, int batch, int runs, long seed, boolean checkpointing,
            OpProfile profile) {
        ParameterStore params = ParameterStore.random(seed);
        UNetModel unet = new UNetModel(params.root().sub(UNetModel.PREFIX), config);
        unet.setGradientCheckpointing(checkpointing);
        Collection<Tensor> trainable = params.parameters().values();
        trainable.forEach(p -> p.requiresGrad(true));
        // latents and text context as a fine-tune sees them: data, and the frozen text encoder's output
        Tensor x = Tensor.of(Timing.random(batch * config.inChannels() * latent * latent, 7), batch, config.inChannels(),
                latent, latent);
        Tensor context = Tensor.of(Timing.random(batch * 77 * config.contextDim(), 8), batch, 77, config.contextDim());
        Tensor target = Tensor.of(Timing.random(batch * config.outChannels() * latent * latent, 9), batch,
                config.outChannels(), latent, latent);
        float[] t = new float[batch];
        Arrays.fill(t, 500f);
        HeapMeter.resetPeaks();

        // The untimed first step compiles the kernels and measures the tape: full GCs around the forward.
        long before = HeapMeter.liveHeapAfterGc();
        Tensor loss = F.mseLoss(unet.forward(x, t, context), target);
        long tapeBytes = HeapMeter.liveHeapAfterGc() - before;
        loss.backward();
        double best = Double.MAX_VALUE;
        trainable.forEach(Tensor::zeroGrad);
        System.gc();
        long allocatedBefore = HeapMeter.allocatedBytes();
        for (int i = 0; i < runs; i++) {
            trainable.forEach(Tensor::zeroGrad); // each step starts from no gradients, as after optimizer.zero_grad
            long t0 = System.nanoTime();
            F.mseLoss(unet.forward(x, t, context), target).backward();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        long allocated = (HeapMeter.allocatedBytes() - allocatedBefore) / runs;
        if (profile != null) {
            trainable.forEach(Tensor::zeroGrad);
            profile.measure(() -> F.mseLoss(unet.forward(x, t, context), target).backward());
        }
        // backward ≈ twice the forward's FLOPs; checkpointing's recomputation is extra work, not counted
        double gflop = 3 * UNetFlops.count(config, latent, batch) / 1e9;
        return new Result(best, gflop, tapeBytes, HeapMeter.peakHeap(), allocated, runs, checkpointing);
    }

    public static String describe(Result r, double peakGflops) {
        double rate = r.gflop() / r.seconds();
        return String.format(Locale.ROOT, "%.2f s per UNet training step (best of %d), %.1f GFLOP per step (forward + "
                + "backward = 3 forwards), %.1f GFLOP/s = %.1f%% of fp32 peak, tape after forward %.1f MiB, peak heap %.2f"
                + " GiB, %.2f GiB allocated per step", r.seconds(), r.runs(), r.gflop(), rate, 100 * rate / peakGflops,
                r.tapeBytes() / (double) (1L << 20), HeapMeter.gib(r.peakHeapBytes()), HeapMeter.gib(r.allocatedBytesPerStep()));
    }
}
