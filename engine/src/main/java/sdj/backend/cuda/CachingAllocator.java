package sdj.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A caching device allocator: freed blocks go to a free list per size class and are handed out again
 * instead of calling the driver (cuMemAlloc/cuMemFree both synchronise the device). Sizes round up to 512 B
 * below 1 MiB and to 2 MiB above, so SD's recurring activation shapes land in the same classes.
 * All work runs on one stream, so a block freed after its last kernel was enqueued can be reused by
 * the next kernel in stream order without waiting.
 */
final class CachingAllocator {
    private static final long SMALL_LIMIT = 1L << 20;
    private static final long SMALL_ROUND = 512;
    private static final long LARGE_ROUND = 2L << 20;

    /** One allocation: its address and the size class it belongs to. */
    record Block(DevicePtr ptr, long sizeClass) {
    }

    private final DeviceDriver driver;
    private final Map<Long, ArrayDeque<DevicePtr>> free = new HashMap<>();
    private long inUse;
    private long reserved;
    private long peakInUse;
    private long peakReserved;

    CachingAllocator(DeviceDriver driver) {
        this.driver = driver;
    }

    static long sizeClass(long bytes) {
        long b = Math.max(bytes, 1);
        long round = b < SMALL_LIMIT ? SMALL_ROUND : LARGE_ROUND;
        return (b + round - 1) / round * round;
    }

    synchronized Block allocate(long bytes) {
        long cls = sizeClass(bytes);
        ArrayDeque<DevicePtr> list = free.get(cls);
        DevicePtr ptr = list == null ? null : list.poll();
        if (ptr == null) {
            long address = driver.allocate(cls);
            if (address == 0) {
                releaseCached();
                address = driver.allocate(cls);
                if (address == 0) {
                    throw new CudaOutOfMemory(bytes, stats(), driver.freeMemory(), driver.properties().totalMemory());
                }
            }
            ptr = new DevicePtr(address);
            reserved += cls;
            peakReserved = Math.max(peakReserved, reserved);
        }
        inUse += cls;
        peakInUse = Math.max(peakInUse, inUse);
        return new Block(ptr, cls);
    }

    synchronized void release(Block block) {
        inUse -= block.sizeClass();
        free.computeIfAbsent(block.sizeClass(), k -> new ArrayDeque<>()).push(block.ptr());
    }

    /** Gives every cached (free) block back to the driver. */
    synchronized void releaseCached() {
        for (var entry : free.entrySet()) {
            for (DevicePtr p : entry.getValue()) {
                driver.free(p.address());
                reserved -= entry.getKey();
            }
        }
        free.clear();
    }

    synchronized AllocatorStats stats() {
        return new AllocatorStats(inUse, reserved, peakInUse, peakReserved);
    }
}
