package sdj.bench;

import java.util.Locale;
import sdj.backend.cuda.CudaOps;
import sdj.bench.profile.OpProfile;
import sdj.nn.ParameterStore;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * One full UNet forward with random weights at a given latent size: seconds per forward, the
 * achieved GFLOP/s (from a counted FLOP total) and the JVM's peak heap use.
 */
public final class UNetBench {
    private UNetBench() {
    }

    /** allocatedBytes: heap allocated by each timed forward, in order (the first may still run uncompiled kernels). */
    public record Result(double seconds, double gflop, long peakHeapBytes, long[] allocatedBytes, int runs) {
        /** The last timed forward's allocation: the steady state, every kernel compiled by then. */
        public long allocatedBytesPerForward() {
            return allocatedBytes.length == 0 ? 0 : allocatedBytes[allocatedBytes.length - 1];
        }
    }

    public static Result run(UNetConfig config, int latent, int batch, int runs, long seed) {
        return run(config, latent, batch, runs, seed, Device.CPU, DType.F32);
    }

    /**
     * On CUDA the weights are converted to {@code dtype} once as they are created, and every timed
     * forward ends by waiting for the GPU, so the time covers the kernels and not just their launch.
     */
    public static Result run(UNetConfig config, int latent, int batch, int runs, long seed, Device device, DType dtype) {
        return run(config, latent, batch, runs, seed, device, dtype, null);
    }

    /** With a profile: one more forward after the timed ones, every op measured into it (null: none). */
    public static Result run(UNetConfig config, int latent, int batch, int runs, long seed, Device device, DType dtype,
            OpProfile profile) {
        ParameterStore params = ParameterStore.random(seed);
        if (device != Device.CPU) {
            params = params.placedOn(device, dtype);
        }
        return run(params, config, latent, batch, runs, device, dtype, profile);
    }

    /**
     * With the weights of {@code params}, e.g. a checkpoint's read in place from its memory map (what
     * txt2img runs) rather than random heap arrays.
     */
    public static Result run(ParameterStore params, UNetConfig config, int latent, int batch, int runs, Device device,
            DType dtype, OpProfile profile) {
        UNetModel unet = new UNetModel(params.root().sub(UNetModel.PREFIX), config);
        Tensor x = Tensor.of(Timing.random(batch * config.inChannels() * latent * latent, 7), batch, config.inChannels(),
                latent, latent);
        Tensor context = Tensor.of(Timing.random(batch * 77 * config.contextDim(), 8), batch, 77, config.contextDim());
        if (device != Device.CPU) {
            x = x.to(device, dtype);
            context = context.to(device, dtype);
        }
        Runnable waitForDevice = device == Device.CPU ? () -> { } : () -> CudaOps.shared().device().synchronize();
        float[] t = new float[batch];
        java.util.Arrays.fill(t, 500f);
        HeapMeter.resetPeaks();
        double best = Double.MAX_VALUE;
        long[] allocated;
        try (var g = Autograd.noGrad()) {
            // One untimed forward creates the ~3.4 GB of lazily initialised weights and compiles the
            // kernels; the GC then moves the weights to the old generation. Otherwise young collections
            // inside the timed forwards copy them (0.5–1.3 s pauses with ParallelGC): start-up cost, not
            // the steady state of a sampling loop.
            unet.forward(x, t, context);
            waitForDevice.run();
            System.gc();
            allocated = new long[runs];
            for (int i = 0; i < runs; i++) {
                long allocatedBefore = HeapMeter.allocatedBytes();
                long t0 = System.nanoTime();
                unet.forward(x, t, context);
                waitForDevice.run();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                allocated[i] = HeapMeter.allocatedBytes() - allocatedBefore;
            }
            if (profile != null) {
                Tensor xs = x;
                Tensor ctx = context;
                profile.measure(() -> {
                    unet.forward(xs, t, ctx);
                    waitForDevice.run();
                });
            }
        }
        return new Result(best, UNetFlops.count(config, latent, batch) / 1e9, HeapMeter.peakHeap(), allocated, runs);
    }

    public static String describe(Result r, double peakGflops) {
        double rate = r.gflop() / r.seconds();
        return String.format(Locale.ROOT, "%.2f s per UNet forward (best of %d), %.1f GFLOP per forward, %.1f GFLOP/s = %.1f%% "
                + "of fp32 peak, peak heap %.2f GiB, %.2f GiB allocated per forward (the last; timed forwards: %s GiB)",
                r.seconds(), r.runs(), r.gflop(), rate, 100 * rate / peakGflops, r.peakHeapBytes() / (double) (1L << 30),
                r.allocatedBytesPerForward() / (double) (1L << 30), gib(r.allocatedBytes()));
    }

    private static String gib(long[] bytes) {
        StringBuilder s = new StringBuilder();
        for (long b : bytes) {
            s.append(s.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.2f", b / (double) (1L << 30)));
        }
        return s.toString();
    }

    /** The GPU line: seconds, TFLOP/s, the fraction of the H200's peak for the dtype, device memory. */
    public static String describeGpu(Result r, DType dtype) {
        return String.format(Locale.ROOT, "%.4f s per UNet forward (best of %d), %.1f GFLOP per forward, ", r.seconds(),
                r.runs(), r.gflop()) + GpuBenches.rate(r.gflop() * 1e9, r.seconds(), dtype) + "; device memory: "
                + CudaOps.shared().device().memoryStats();
    }
}
