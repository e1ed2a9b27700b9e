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
 * collector the `sdj` launcher uses, 3 warm-up and 5 measured 2 s iterations. The fork's other JVM
 * flags (the Vector API module, JIT hints) come from the repository's jvm.flags: JMH's forks inherit the
 * host JVM's flags, so start JMH as {@code java @jvm.flags -cp ... org.openjdk.jmh.Main} (README).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx8g"})
public abstract class SdBenchmark {
}
