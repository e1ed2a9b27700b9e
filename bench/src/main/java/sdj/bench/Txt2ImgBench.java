package sdj.bench;

import java.util.Locale;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;

/**
 * A whole txt2img run, prompt to decoded pixels (CLIP, every sampler step with classifier-free
 * guidance, the VAE decoder): seconds per image, the number the peers publish. The untimed first run
 * takes two steps, enough to create lazily made weights and load every kernel.
 */
public final class Txt2ImgBench {
    /** Published seconds per 512² image, 50 steps, fp16 (DESIGN.md's yardsticks). */
    public static final String PEERS = "peers at 512², 50 steps, fp16: diffusers+SDPA on an A100 1.59 s, TensorRT on an A100 0.82 s";

    private Txt2ImgBench() {
    }

    public record Result(double bestSeconds, int runs, int steps) {
        public String describe(String what) {
            return String.format(Locale.ROOT, "%s: %.3f s per image (best of %d), %.2f steps/s, %.3f images/s", what,
                    bestSeconds, runs, steps / bestSeconds, 1 / bestSeconds);
        }
    }

    public static Result run(StableDiffusion sd, GenerationRequest request, int runs) {
        sd.generate(request.withSteps(Math.min(2, request.steps()), request.scale(), request.seed()), (step, total) -> { });
        double best = Double.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            sd.generate(request, (step, total) -> { }); // pixels come back to the host: the GPU has finished
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return new Result(best, runs, request.steps());
    }
}
