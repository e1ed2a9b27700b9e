package sdj.backend.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The worker threads behind {@link Parallel}: the calling thread runs chunks too, and a worker that finished
 * a job spins for a while before it parks. A UNet forward is thousands of short parallel regions back to
 * back; waking a parked thread costs tens of microseconds on a VM (a halted virtual CPU), more than many of
 * those regions take. One job at a time: a call made while another runs (nested in a chunk, or from a
 * second thread) runs on its caller alone.
 */
final class SpinPool {
    /** How long an idle worker polls for the next job before it parks. */
    private static final long SPIN_NANOS = 200_000;

    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean shutdown;
    /** The job workers take chunks of; bumped generation = a new job. */
    private volatile Job job;
    private volatile long generation;

    private static final class Job {
        final Parallel.RangeBody body;
        final int n;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(Parallel.RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Runs chunks until none is left. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    int from = (int) ((long) n * c / chunks);
                    int to = (int) ((long) n * (c + 1) / chunks);
                    if (from < to) {
                        body.run(from, to);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;
        private long seen;

        Worker(int index) {
            super("sdj-cpu-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!shutdown) {
                long g = generation;
                if (g != seen) {
                    seen = g;
                    Job j = job;
                    if (j != null) {
                        j.work();
                    }
                    continue;
                }
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (generation == seen && !shutdown && System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                }
                if (generation == seen && !shutdown) {
                    parked = true;
                    if (generation == seen && !shutdown) { // re-checked after publishing parked: no lost wake-up
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }
    }

    SpinPool(int threads) {
        workers = new Worker[Math.max(0, threads - 1)];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    int threads() {
        return workers.length + 1;
    }

    /** Runs body over [0, n) in the given number of chunks, on this thread and the workers. */
    void run(int n, int chunks, Parallel.RangeBody body) {
        if (workers.length == 0 || chunks < 2 || !busy.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        Job j = new Job(body, n, chunks);
        try {
            job = j;
            generation++;
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            j.work();
            while (j.done.get() < chunks) {
                Thread.onSpinWait();
            }
        } finally {
            job = null;
            busy.set(false);
        }
        Throwable t = j.failure.get();
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    void shutdown() {
        shutdown = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }
}
