package sdj.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import sdj.bench.Timing;
import sdj.ops.F;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * The elementwise ops of a UNet step at the first level of a 512×512 CFG step: SiLU and a residual add
 * over [2, 320, 64, 64] (2.6 M elements), GEGLU over the feed-forward's [2, 4096, 2·1280] projection.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ElementwiseBench extends SdBenchmark {
    private Tensor a;
    private Tensor b;
    private Tensor projection;

    @Setup
    public void setup() {
        a = Tensor.of(Timing.random(2 * 320 * 64 * 64, 1), 2, 320, 64, 64);
        b = Tensor.of(Timing.random(2 * 320 * 64 * 64, 2), 2, 320, 64, 64);
        projection = Tensor.of(Timing.random(2 * 4096 * 2560, 3), 2, 4096, 2560);
    }

    @Benchmark
    public Tensor silu() {
        try (var g = Autograd.noGrad()) {
            return F.silu(a);
        }
    }

    @Benchmark
    public Tensor residualAdd() {
        try (var g = Autograd.noGrad()) {
            return a.add(b);
        }
    }

    @Benchmark
    public Tensor geglu() {
        try (var g = Autograd.noGrad()) {
            return F.geglu(projection);
        }
    }
}
