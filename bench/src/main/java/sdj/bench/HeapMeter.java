package sdj.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * The heap figures the benches print: the JVM's peak heap since a reset (all heap pools), the bytes
 * allocated so far by all live threads, and the live heap after a full collection.
 */
final class HeapMeter {
    private HeapMeter() {
    }

    /** Starts a new peak: what {@link #peakHeap} reports is measured from here. */
    static void resetPeaks() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    /** The sum of every heap pool's peak use since {@link #resetPeaks} (an upper bound of the true peak). */
    static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Bytes allocated on the heap so far by all live threads (the caller and the ForkJoin workers). */
    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    /** The heap in use after a full GC: what is still reachable. */
    static long liveHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }
}
