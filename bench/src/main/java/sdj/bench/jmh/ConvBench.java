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
import sdj.ops.Conv;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** conv2d 3×3, 320→320 channels at 64×64, padding 1: the UNet's first-level ResBlock conv (30.2 GFLOP). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx8g"})
public class ConvBench {
    private static final int C = 320;
    private static final int SIZE = 64;

    private Tensor x;
    private Tensor w;
    private Tensor bias;

    @Setup
    public void setup() {
        x = Tensor.of(Timing.random(C * SIZE * SIZE, 1), 1, C, SIZE, SIZE);
        w = Tensor.of(Timing.random(C * C * 9, 2), C, C, 3, 3);
        bias = Tensor.of(Timing.random(C, 3), C);
    }

    @Benchmark
    public Tensor conv3x3() {
        try (var g = Autograd.noGrad()) {
            return Conv.conv2d(x, w, bias, 1, 1);
        }
    }
}
