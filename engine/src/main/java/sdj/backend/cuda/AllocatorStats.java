package sdj.backend.cuda;

/**
 * Allocator counters: bytes handed out now, bytes held from the driver (handed out plus cached),
 * and the peaks of both since the device was opened.
 */
public record AllocatorStats(long inUseBytes, long reservedBytes, long peakInUseBytes, long peakReservedBytes) {
    @Override
    public String toString() {
        return "in use " + Bytes.human(inUseBytes) + ", reserved " + Bytes.human(reservedBytes) + ", peak in use "
                + Bytes.human(peakInUseBytes) + ", peak reserved " + Bytes.human(peakReservedBytes);
    }
}
