package sdj.bench.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import sdj.backend.cpu.Gemm;
import sdj.bench.Timing;

/**
 * C = A·B at the UNet's typical shapes (MxNxK): 4096×320×320 (a 64×64-latent projection),
 * 1024×1280×1280, 77×768×768 (a text-context projection) and the square 1024³.
 * GFLOP/s = 2·M·N·K / (ms per op · 1e6).
 */
public class GemmBench extends SdBenchmark {
    @Param({"4096x320x320", "1024x1280x1280", "77x768x768", "1024x1024x1024"})
    public String shape;

    private int m;
    private int n;
    private int k;
    private float[] a;
    private float[] b;
    private float[] c;

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        a = Timing.random(m * k, 1);
        b = Timing.random(k * n, 2);
        c = new float[m * n];
    }

    @Benchmark
    public float[] sgemm() {
        Gemm.sgemm(m, n, k, Gemm.Operand.rowMajor(a, 0, k), Gemm.Operand.rowMajor(b, 0, n), c, 0, n, false);
        return c;
    }
}
