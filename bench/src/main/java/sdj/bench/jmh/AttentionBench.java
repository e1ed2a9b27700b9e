package sdj.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import sdj.bench.Timing;
import sdj.ops.Attention;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** softmax(q·kᵀ/√d)·v self-attention, 8 heads × 4096 tokens × 40: the 64×64-latent transformer (10.7 GFLOP). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx8g"})
public class AttentionBench {
    private static final int HEADS = 8;
    private static final int TOKENS = 4096;
    private static final int HEAD_DIM = 40;

    private Tensor q;
    private Tensor k;
    private Tensor v;

    @Setup
    public void setup() {
        int n = HEADS * TOKENS * HEAD_DIM;
        q = Tensor.of(Timing.random(n, 1), 1, HEADS, TOKENS, HEAD_DIM);
        k = Tensor.of(Timing.random(n, 2), 1, HEADS, TOKENS, HEAD_DIM);
        v = Tensor.of(Timing.random(n, 3), 1, HEADS, TOKENS, HEAD_DIM);
    }

    @Benchmark
    public Tensor selfAttention() {
        try (var g = Autograd.noGrad()) {
            return Attention.sdpa(q, k, v, false);
        }
    }
}
