package sdj.bench;

import java.util.Locale;
import sdj.bench.profile.OpProfile;
import sdj.nn.ParameterStore;
import sdj.sd.vae.AutoencoderKL;
import sdj.sd.vae.VaeConfig;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * One VAE decode (post_quant_conv + decoder) with random weights: latents [B, 4, n, n] to images
 * [B, 3, 8n, 8n]. Seconds per decode, the FLOPs the profiler counts from the shapes (the untimed
 * warm-up decode is the counted one) and the JVM's peak heap.
 */
public final class VaeBench {
    private VaeBench() {
    }

    public record Result(double seconds, double gflop, long peakHeapBytes, int runs) {
    }

    /** With a profile: one more decode after the timed ones, every op measured into it (null: none). */
    public static Result run(VaeConfig config, int latent, int batch, int runs, long seed, OpProfile profile) {
        AutoencoderKL vae = new AutoencoderKL(ParameterStore.random(seed).root().sub(AutoencoderKL.PREFIX), config);
        Tensor z = Tensor.of(Timing.random(batch * config.embedDim() * latent * latent, 7), batch, config.embedDim(),
                latent, latent);
        HeapMeter.resetPeaks();
        OpProfile counted = new OpProfile();
        double best = Double.MAX_VALUE;
        try (var g = Autograd.noGrad()) {
            // the untimed decode creates the lazily initialised weights and compiles the kernels
            counted.measure(() -> vae.decode(z));
            System.gc();
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                vae.decode(z);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            if (profile != null) {
                profile.measure(() -> vae.decode(z));
            }
        }
        double flops = counted.byType().stream().mapToDouble(OpProfile.Row::flops).sum();
        return new Result(best, flops / 1e9, HeapMeter.peakHeap(), runs);
    }

    public static String describe(Result r, double peakGflops) {
        double rate = r.gflop() / r.seconds();
        return String.format(Locale.ROOT, "%.2f s per VAE decode (best of %d), %.1f GFLOP per decode, %.1f GFLOP/s = %.1f%%"
                + " of fp32 peak, peak heap %.2f GiB", r.seconds(), r.runs(), r.gflop(), rate, 100 * rate / peakGflops,
                HeapMeter.gib(r.peakHeapBytes()));
    }
}
