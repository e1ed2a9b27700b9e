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
import sdj.ops.F;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * The elementwise ops of a UNet step at the first level of a 512×512 CFG step: SiLU and a residual add
 * over [2, 320, 64, 64] (2.6 M elements), GEGLU over the feed-forward's [2, 4096, 2·1280] projection.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx8g"})
public class ElementwiseBench {
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
