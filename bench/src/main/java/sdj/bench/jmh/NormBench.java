package sdj.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import sdj.bench.Timing;
import sdj.ops.Norm;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * The UNet's normalisations at the first level of a 512×512 CFG step (batch 2, 64×64 latents):
 * GroupNorm(32 groups) over [2, 320, 64, 64] and LayerNorm over [2, 4096, 320]. Memory-bound; read
 * the result as GB/s (2 × 10.5 MB moved per call).
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class NormBench extends SdBenchmark {
    private static final int C = 320;
    private static final int TOKENS = 64 * 64;

    private Tensor image;
    private Tensor tokens;
    private Tensor gamma;
    private Tensor beta;

    @Setup
    public void setup() {
        image = Tensor.of(Timing.random(2 * C * TOKENS, 1), 2, C, 64, 64);
        tokens = Tensor.of(Timing.random(2 * TOKENS * C, 2), 2, TOKENS, C);
        gamma = Tensor.of(Timing.random(C, 3), C);
        beta = Tensor.of(Timing.random(C, 4), C);
    }

    @Benchmark
    public Tensor groupNorm32() {
        try (var g = Autograd.noGrad()) {
            return Norm.groupNorm(image, 32, gamma, beta, 1e-5f);
        }
    }

    @Benchmark
    public Tensor layerNorm() {
        try (var g = Autograd.noGrad()) {
            return Norm.layerNorm(tokens, gamma, beta, 1e-5f);
        }
    }
}
