package sdj.backend.cpu;

/**
 * Splits index ranges over the machine's cores: the calling thread and {@link SpinPool}'s workers. Work
 * below a grain size runs on the calling thread, so small tensors pay no scheduling cost.
 */
public final class Parallel {
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static volatile SpinPool pool = new SpinPool(Integer.getInteger("sdj.threads",
            Runtime.getRuntime().availableProcessors()));

    private Parallel() {
    }

    /** Sets the number of threads, the caller included (the CLI's --threads). */
    public static synchronized void setThreads(int threads) {
        if (Math.max(1, threads) != pool.threads()) {
            SpinPool old = pool;
            pool = new SpinPool(Math.max(1, threads));
            old.shutdown();
        }
    }

    public static int threads() {
        return pool.threads();
    }

    /**
     * Runs body over [0, n) in contiguous chunks. {@code costPerItem} is a rough count of flops per
     * index, used to decide whether splitting is worth it.
     */
    public static void range(int n, long costPerItem, RangeBody body) {
        SpinPool p = pool;
        int threads = p.threads();
        long total = (long) n * Math.max(1, costPerItem);
        if (threads == 1 || n < 2 || total < 32_768) {
            body.run(0, n);
            return;
        }
        p.run(n, (int) Math.min(n, Math.min(threads * 4L, Math.max(2, total / 16_384))), body);
    }

    /**
     * Runs body over [0, n) in exactly one contiguous chunk per thread (fewer when n is smaller), for work whose
     * every chunk repeats a setup step (a GEMM's B packing) that more chunks would repeat more often.
     */
    public static void perThread(int n, RangeBody body) {
        SpinPool p = pool;
        p.run(n, Math.min(n, p.threads()), body);
    }
}
