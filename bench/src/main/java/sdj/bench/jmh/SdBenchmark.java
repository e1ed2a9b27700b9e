package sdj.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The settings every sdj benchmark shares (JMH inherits them): average time per call, one fork with the
 * Vector API module and the collector the `sdj` launcher uses, 3 warm-up and 5 measured 2 s iterations.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:CompileCommand=quiet",
    "-XX:CompileCommand=inline,sdj.ops.VectorMath::exp*", "-XX:+UseParallelGC", "-Xmx8g"})
public abstract class SdBenchmark {
}
