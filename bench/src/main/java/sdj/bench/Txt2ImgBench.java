package sdj.bench;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * A whole txt2img run, prompt to decoded pixels (CLIP, every sampler step with classifier-free
 * guidance, the VAE decoder): seconds per image, the number the peers publish. The untimed first run
 * takes two steps, enough to create lazily made weights and load every kernel; it also gives the time
 * to the first step (from the process's start, as {@code sdj txt2img} counts it, to the moment the first
 * sampler step begins: load, prompt encoding and noise) and that step's own seconds (a fresh JVM compiles
 * its kernels during it). The peak resident memory (VmHWM) covers the whole process: load, every run, and
 * the mapped checkpoint pages.
 */
public final class Txt2ImgBench {
    /** Published seconds per 512² image, 50 steps, fp16 (DESIGN.md's yardsticks). */
    public static final String PEERS = "peers at 512², 50 steps, fp16: diffusers+SDPA on an A100 1.59 s, TensorRT on an A100 0.82 s";

    private static final double MIB = 1 << 20;

    private Txt2ImgBench() {
    }

    public record Result(double bestSeconds, int runs, int steps, double loadSeconds, double toFirstStepSeconds,
            double firstStepSeconds, OptionalLong peakResidentBytes, long mappedWeightBytes, long heapWeightBytes) {
        public String describe(String what) {
            return String.format(Locale.ROOT, "%s: %.3f s per image (best of %d), %.2f steps/s, %.3f images/s", what,
                    bestSeconds, runs, steps / bestSeconds, 1 / bestSeconds);
        }

        /** Time to first step (with the load's share), the first step's own time and the peak resident memory. */
        public String describeStartAndMemory() {
            return String.format(Locale.ROOT, "time to first step %.2f s (load %.2f s), first step %.2f s, peak resident"
                    + " memory %s; weights: %.1f MiB read in place from the file, %.1f MiB on the heap",
                    toFirstStepSeconds, loadSeconds, firstStepSeconds, ResidentMemory.describe(peakResidentBytes),
                    mappedWeightBytes / MIB, heapWeightBytes / MIB);
        }
    }

    /** Loads the model with {@code load} (timed as part of the time to the first step), then runs. */
    public static Result run(Callable<StableDiffusion> load, GenerationRequest request, int runs) throws Exception {
        long t0 = System.nanoTime();
        StableDiffusion sd = load.call();
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        double[] firstStepStart = {0};
        long[] firstStep = {0, 0}; // nanoTime at its start and end
        sd.generate(request.withSteps(Math.min(2, request.steps()), request.scale(), request.seed()),
                new StableDiffusion.Listener() {
                    @Override
                    public void onBatch(int batch, int batches) {
                        firstStepStart[0] = ProcessClock.secondsSinceStart();
                        firstStep[0] = System.nanoTime();
                    }

                    @Override
                    public void onStep(int step, int total) {
                        if (step == 1) {
                            firstStep[1] = System.nanoTime();
                        }
                    }
                });
        double best = Double.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long t1 = System.nanoTime();
            sd.generate(request, (step, total) -> { }); // pixels come back to the host: the GPU has finished
            best = Math.min(best, (System.nanoTime() - t1) / 1e9);
        }
        long mapped = 0;
        long heap = 0;
        for (Tensor w : sd.model().parameters().values()) {
            long bytes = w.numel() * w.dtype().byteSize;
            if (w.device() != Device.CPU) {
                continue; // GPU weights take neither
            }
            if (w.storage().heapFloats() == null) {
                mapped += bytes;
            } else {
                heap += bytes;
            }
        }
        return new Result(best, runs, request.steps(), loadSeconds, firstStepStart[0], (firstStep[1] - firstStep[0]) / 1e9,
                ResidentMemory.peakBytes(), mapped, heap);
    }
}
