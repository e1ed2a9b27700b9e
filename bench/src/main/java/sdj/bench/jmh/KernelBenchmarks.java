package sdj.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import sdj.backend.cpu.Gemm;
import sdj.bench.Timing;
import sdj.ops.Attention;
import sdj.ops.Conv;
import sdj.tensor.Tensor;

/**
 * The CPU hot paths at SD v1 shapes. GFLOP/s = flops per call / time per call (flops: GEMM 2mnk,
 * conv 2·C·O·9·H·W, attention 4·heads·N²·d). Run:
 * {@code java --add-modules jdk.incubator.vector -cp "bench/target/benchmarks.jar:bench/target/lib/*" org.openjdk.jmh.Main}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelBenchmarks {

    /** GEMM shapes of a UNet step: 64×64-latent projections, the 1280-wide blocks, the 77-token context. */
    @State(Scope.Thread)
    public static class GemmShape {
        @Param({"4096x320x320", "1024x1280x1280", "77x768x768", "1024x1024x1024"})
        public String mnk;
        int m;
        int n;
        int k;
        float[] a;
        float[] b;
        float[] c;

        @Setup(Level.Trial)
        public void setup() {
            String[] p = mnk.split("x");
            m = Integer.parseInt(p[0]);
            n = Integer.parseInt(p[1]);
            k = Integer.parseInt(p[2]);
            a = Timing.random(m * k, 1);
            b = Timing.random(k * n, 2);
            c = new float[m * n];
        }
    }

    @Benchmark
    public float[] gemm(GemmShape s) {
        Gemm.sgemm(s.m, s.n, s.k, Gemm.Operand.rowMajor(s.a, 0, s.k), Gemm.Operand.rowMajor(s.b, 0, s.n), s.c, 0, s.n,
                false);
        return s.c;
    }

    /** The 3×3 320→320 convolution at 64×64 and the 8-head self-attention over 4096 tokens. */
    @State(Scope.Thread)
    public static class UNetLayers {
        Tensor x;
        Tensor w;
        Tensor bias;
        Tensor q;
        Tensor k;
        Tensor v;

        @Setup(Level.Trial)
        public void setup() {
            x = Tensor.of(Timing.random(320 * 64 * 64, 1), 1, 320, 64, 64);
            w = Tensor.of(Timing.random(320 * 320 * 9, 2), 320, 320, 3, 3);
            bias = Tensor.of(Timing.random(320, 3), 320);
            int n = 8 * 4096 * 40;
            q = Tensor.of(Timing.random(n, 4), 1, 8, 4096, 40);
            k = Tensor.of(Timing.random(n, 5), 1, 8, 4096, 40);
            v = Tensor.of(Timing.random(n, 6), 1, 8, 4096, 40);
        }
    }

    @Benchmark
    public Tensor conv3x3_320_64x64(UNetLayers s) {
        return Conv.conv2d(s.x, s.w, s.bias, 1, 1);
    }

    @Benchmark
    public Tensor attention_8x4096x40(UNetLayers s) {
        return Attention.sdpa(s.q, s.k, s.v, false);
    }
}
