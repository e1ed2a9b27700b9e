package sdj.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.zip.CRC32;
import sdj.tensor.Tensor;

/** Streams a tensor's elements, row-major and in its own dtype, as little-endian bytes. */
final class TensorBytes {
    private static final int CHUNK = 1 << 20;

    private TensorBytes() {
    }

    static long byteSize(Tensor t) {
        return t.numel() * t.dtype().byteSize;
    }

    /** Writes the bytes to {@code out} and returns their CRC-32 (zip needs it). */
    static int write(Tensor t, WritableByteChannel out) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            // Heap float[] storages are in native order; checkpoint files are little-endian.
            throw new IOException("writing tensor files needs a little-endian machine");
        }
        CRC32 crc = new CRC32();
        int es = t.dtype().byteSize;
        byte[] buf = new byte[(int) Math.clamp(byteSize(t), es, CHUNK)];
        MemorySegment bufSeg = MemorySegment.ofArray(buf);
        MemorySegment src = t.storage().segment();
        if (t.isContiguous()) {
            long start = t.offset() * es;
            long total = byteSize(t);
            for (long done = 0; done < total; ) {
                int n = (int) Math.min(buf.length, total - done);
                MemorySegment.copy(src, start + done, bufSeg, 0, n);
                emit(buf, n, crc, out);
                done += n;
            }
            return (int) crc.getValue();
        }
        // Strided view: walk the index odometer and gather element by element.
        int[] shape = t.shape();
        int[] strides = t.strides();
        int[] idx = new int[shape.length];
        long p = t.offset();
        int fill = 0;
        for (long i = 0, n = t.numel(); i < n; i++) {
            MemorySegment.copy(src, p * es, bufSeg, fill, es);
            fill += es;
            if (fill + es > buf.length) {
                emit(buf, fill, crc, out);
                fill = 0;
            }
            for (int d = shape.length - 1; d >= 0; d--) {
                p += strides[d];
                if (++idx[d] < shape[d]) {
                    break;
                }
                p -= (long) strides[d] * shape[d];
                idx[d] = 0;
            }
        }
        emit(buf, fill, crc, out);
        return (int) crc.getValue();
    }

    private static void emit(byte[] buf, int n, CRC32 crc, WritableByteChannel out) throws IOException {
        crc.update(buf, 0, n);
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
        while (bb.hasRemaining()) {
            out.write(bb);
        }
    }
}
