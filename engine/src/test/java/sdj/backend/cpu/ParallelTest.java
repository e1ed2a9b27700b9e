package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ParallelTest {
    private int savedThreads;

    @BeforeEach
    void saveThreads() {
        savedThreads = Parallel.threads();
    }

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    /** Each index of [0, n) run exactly once, whatever the chunking. */
    private static int[] visits(int n, long cost) {
        int[] seen = new int[n];
        Parallel.range(n, cost, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                seen[i]++;
            }
        });
        return seen;
    }

    @Test
    void everyIndexRunsOnceInManyBackToBackJobs() {
        for (int threads : new int[] {1, 2, 3}) {
            Parallel.setThreads(threads);
            assertEquals(threads, Parallel.threads());
            for (int job = 0; job < 2000; job++) {
                int n = 1 + job % 97;
                int[] expected = new int[n];
                java.util.Arrays.fill(expected, 1);
                assertArrayEquals(expected, visits(n, 1_000_000), threads + " threads, job " + job);
            }
        }
    }

    @Test
    void workersAndTheCallerShareTheChunksAndPerThreadGivesOneChunkEach() {
        Parallel.setThreads(2);
        Set<Thread> runners = ConcurrentHashMap.newKeySet();
        AtomicInteger chunks = new AtomicInteger();
        Parallel.perThread(10, (lo, hi) -> {
            runners.add(Thread.currentThread());
            chunks.incrementAndGet();
            busyWait(20_000_000); // long enough that one thread cannot take both chunks
        });
        assertEquals(2, chunks.get());
        assertEquals(2, runners.size(), "the caller and one worker");
        assertTrue(runners.contains(Thread.currentThread()));
    }

    @Test
    void aNestedCallRunsOnItsCallerAndAFailureReachesTheCaller() {
        Parallel.setThreads(2);
        int[] inner = new int[64];
        Parallel.range(4, 1_000_000, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int row = i;
                Parallel.range(16, 1_000_000, (a, b) -> {
                    for (int j = a; j < b; j++) {
                        inner[row * 16 + j]++;
                    }
                });
            }
        });
        int[] ones = new int[64];
        java.util.Arrays.fill(ones, 1);
        assertArrayEquals(ones, inner);
        IllegalStateException boom = new IllegalStateException("chunk failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> Parallel.range(8, 1_000_000, (lo, hi) -> {
                    if (lo > 0) {
                        throw boom;
                    }
                }));
        assertSame(boom, thrown);
        assertArrayEquals(new int[] {1, 1, 1}, visits(3, 1_000_000), "the pool works after a failure");
    }

    private static void busyWait(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
