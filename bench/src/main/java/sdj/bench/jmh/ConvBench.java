package sdj.bench.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;
import sdj.bench.Timing;
import sdj.ops.Conv;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** conv2d 3×3, 320→320 channels at 64×64, padding 1: the UNet's first-level ResBlock conv (30.2 GFLOP). */
public class ConvBench extends SdBenchmark {
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
