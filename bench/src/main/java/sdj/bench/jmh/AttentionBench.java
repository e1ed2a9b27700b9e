package sdj.bench.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;
import sdj.bench.Timing;
import sdj.ops.Attention;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** softmax(q·kᵀ/√d)·v self-attention, 8 heads × 4096 tokens × 40: the 64×64-latent transformer (10.7 GFLOP). */
public class AttentionBench extends SdBenchmark {
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
