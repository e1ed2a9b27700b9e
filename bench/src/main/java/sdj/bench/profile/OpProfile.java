package sdj.bench.profile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import sdj.tensor.Profiling;

/**
 * Time, FLOPs, bytes moved and heap bytes allocated of every backend op of one measured piece of work (a UNet forward, a training
 * step), per op type and LDM module. {@link #measure} installs a {@link ProfilingBackend} for the
 * duration; ops nested in another op (a backend calling tensor ops inside its kernel) count in the
 * outer op only. Ops are expected to be issued from one thread at a time, as sdj's models do; an op's
 * allocation is what all threads allocated on the heap while it ran (its workers' included), so work
 * on other threads at the same time would be charged to it too.
 */
public final class OpProfile {
    /** One (op type, module) cell; module null for ops outside every named module. */
    public record Key(String type, String module) {
    }

    /** Sums over the calls of one cell. */
    public static final class Cell {
        long calls;
        long nanos;
        double flops;
        double bytes;
        long allocated;

        public long calls() {
            return calls;
        }

        public double seconds() {
            return nanos / 1e9;
        }

        public double flops() {
            return flops;
        }

        public double bytes() {
            return bytes;
        }

        public long allocatedBytes() {
            return allocated;
        }
    }

    private final Map<Key, Cell> cells = new HashMap<>();
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);
    private final ThreadLocal<long[]> allocatedAtStart = ThreadLocal.withInitial(() -> new long[1]);
    private long wallNanos;

    /** Runs work with every op profiled; its wall time is the whole the shares are of. */
    public <T> T measure(Supplier<T> work) {
        Profiling.install(b -> new ProfilingBackend(b, this));
        long t0 = System.nanoTime();
        try {
            return work.get();
        } finally {
            wallNanos += System.nanoTime() - t0;
            Profiling.uninstall();
        }
    }

    public void measure(Runnable work) {
        measure(() -> {
            work.run();
            return null;
        });
    }

    /** Opens an op; returns its start time. */
    long begin() {
        if (depth.get()[0]++ == 0) {
            allocatedAtStart.get()[0] = allocatedBytes();
        }
        return System.nanoTime();
    }

    /** Heap bytes allocated so far by all live threads (the caller and the kernel's workers). */
    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getTotalThreadAllocatedBytes();
    }

    /**
     * Closes the op opened at t0: charged as {@code type} to the running module, or as the backward of
     * the recorded op when autograd is running one, unless it ran inside another op.
     */
    void end(long t0, String type, double flops, double bytes) {
        long nanos = System.nanoTime() - t0;
        int[] d = depth.get();
        d[0]--;
        if (d[0] > 0) {
            return;
        }
        long allocated = allocatedBytes() - allocatedAtStart.get()[0];
        String backwardOf = Profiling.currentBackward();
        String charged = backwardOf == null ? type : OpTypes.backwardOf(backwardOf);
        Key key = new Key(charged, Profiling.currentModule());
        synchronized (cells) {
            Cell c = cells.computeIfAbsent(key, k -> new Cell());
            c.calls++;
            c.nanos += nanos;
            c.flops += flops;
            c.bytes += bytes;
            c.allocated += allocated;
        }
    }

    /** Every cell measured so far (a copy). */
    public Map<Key, Cell> cells() {
        synchronized (cells) {
            return new HashMap<>(cells);
        }
    }

    /** Wall seconds of all {@link #measure} calls together. */
    public double wallSeconds() {
        return wallNanos / 1e9;
    }

    /** The cells summed by op type (with the time outside ops as its own row), slowest first. */
    public List<Row> byType() {
        Map<String, Row> rows = new HashMap<>();
        for (Map.Entry<Key, Cell> e : cells().entrySet()) {
            rows.computeIfAbsent(e.getKey().type(), t -> new Row(t, null)).add(e.getValue());
        }
        List<Row> sorted = new ArrayList<>(rows.values());
        Row outside = new Row(OpTypes.OUTSIDE_OPS, null);
        outside.nanos = Math.max(0, wallNanos - sorted.stream().mapToLong(r -> r.nanos).sum());
        sorted.add(outside);
        sorted.sort((a, b) -> Long.compare(b.nanos, a.nanos));
        return sorted;
    }

    /** One row per (module, op type), slowest first. */
    public List<Row> byLayer() {
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<Key, Cell> e : cells().entrySet()) {
            Row r = new Row(e.getKey().type(), e.getKey().module());
            r.add(e.getValue());
            rows.add(r);
        }
        rows.sort((a, b) -> Long.compare(b.nanos, a.nanos));
        return rows;
    }

    /** A table row: summed calls, time, FLOPs and bytes. */
    public static final class Row {
        final String type;
        final String module;
        long calls;
        long nanos;
        double flops;
        double bytes;
        long allocated;

        Row(String type, String module) {
            this.type = type;
            this.module = module;
        }

        void add(Cell c) {
            calls += c.calls;
            nanos += c.nanos;
            flops += c.flops;
            bytes += c.bytes;
            allocated += c.allocated;
        }

        public String type() {
            return type;
        }

        public String module() {
            return module;
        }

        public long calls() {
            return calls;
        }

        public double seconds() {
            return nanos / 1e9;
        }

        public double flops() {
            return flops;
        }

        public double bytes() {
            return bytes;
        }

        /** Heap bytes allocated while the row's ops ran. */
        public long allocatedBytes() {
            return allocated;
        }
    }
}
