package sdj.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges over the machine's cores with a dedicated ForkJoin pool. Work below a grain
 * size runs on the calling thread, so small tensors pay no scheduling cost.
 */
public final class Parallel {
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static volatile ForkJoinPool pool = newPool(Integer.getInteger("sdj.threads",
            Runtime.getRuntime().availableProcessors()));

    private Parallel() {
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(Math.max(1, threads));
    }

    /** Sets the number of worker threads (the CLI's --threads). */
    public static synchronized void setThreads(int threads) {
        if (threads != pool.getParallelism()) {
            ForkJoinPool old = pool;
            pool = newPool(threads);
            old.shutdown();
        }
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /**
     * Runs body over [0, n) in contiguous chunks. {@code costPerItem} is a rough count of flops per
     * index, used to decide whether splitting is worth it.
     */
    public static void range(int n, long costPerItem, RangeBody body) {
        int threads = pool.getParallelism();
        long total = (long) n * Math.max(1, costPerItem);
        if (threads == 1 || n < 2 || total < 32_768 || java.util.concurrent.ForkJoinTask.getPool() == pool) {
            body.run(0, n);
            return;
        }
        int chunks = (int) Math.min(n, Math.min(threads * 4L, Math.max(2, total / 16_384)));
        pool.invoke(new Chunk(body, n, chunks, 0, chunks));
    }

    /**
     * Runs body over [0, n) in exactly one contiguous chunk per thread (fewer when n is smaller), for work whose
     * every chunk repeats a setup step (a GEMM's B packing) that more chunks would repeat more often.
     */
    public static void perThread(int n, RangeBody body) {
        int chunks = Math.min(n, pool.getParallelism());
        if (chunks < 2 || java.util.concurrent.ForkJoinTask.getPool() == pool) {
            body.run(0, n);
            return;
        }
        pool.invoke(new Chunk(body, n, chunks, 0, chunks));
    }

    private static final class Chunk extends RecursiveAction {
        private final RangeBody body;
        private final int n;
        private final int chunks;
        private final int lo;
        private final int hi;

        Chunk(RangeBody body, int n, int chunks, int lo, int hi) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                int from = (int) ((long) n * lo / chunks);
                int to = (int) ((long) n * (lo + 1) / chunks);
                if (from < to) {
                    body.run(from, to);
                }
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Chunk(body, n, chunks, lo, mid), new Chunk(body, n, chunks, mid, hi));
        }
    }
}
