package sdj.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an uncompressed zip the way PyTorch's serializer does: every entry's data starts on a
 * 64-byte boundary (padded with a "FB" extra field in the local header) so readers can map tensors
 * in place, and zip64 records are used as soon as a size, offset or count outgrows the classic fields.
 */
final class ZipWriter {
    static final int ALIGN = 64;
    private static final long MAX32 = 0xffffffffL;

    /** Produces an entry's bytes into the channel and returns their CRC-32. */
    interface Content {
        int write(FileChannel ch) throws IOException;
    }

    private record Written(byte[] name, long size, int crc, long localOffset) {
    }

    private final FileChannel ch;
    private final List<Written> written = new ArrayList<>();

    ZipWriter(FileChannel ch) {
        this.ch = ch;
    }

    void add(String name, byte[] data) throws IOException {
        add(name, data.length, c -> {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(data);
            put(c, ByteBuffer.wrap(data));
            return (int) crc.getValue();
        });
    }

    /** Adds a stored entry of exactly {@code size} bytes produced by {@code content}. */
    void add(String name, long size, Content content) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        long local = ch.position();
        boolean zip64 = size >= MAX32;
        int zip64Len = zip64 ? 20 : 0;
        long beforePad = local + 30 + nameBytes.length + zip64Len;
        int pad = (int) ((ALIGN - (beforePad + 4) % ALIGN) % ALIGN);
        ByteBuffer h = le(30 + nameBytes.length + zip64Len + 4 + pad);
        h.putInt(ZipArchive.LOCAL_SIG).putShort((short) (zip64 ? 45 : 20)).putShort((short) 0x0800)
                .putShort((short) ZipArchive.STORED).putShort((short) 0).putShort((short) 0x21)
                .putInt(0) // CRC, patched once the data is written
                .putInt((int) (zip64 ? MAX32 : size)).putInt((int) (zip64 ? MAX32 : size))
                .putShort((short) nameBytes.length).putShort((short) (zip64Len + 4 + pad)).put(nameBytes);
        if (zip64) {
            h.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        }
        h.putShort((short) 0x4246).putShort((short) pad); // "FB": padding so the data lands 64-byte aligned
        for (int i = 0; i < pad; i++) {
            h.put((byte) 'Z');
        }
        put(ch, h.flip());
        long dataStart = ch.position();
        int crc = content.write(ch);
        if (ch.position() - dataStart != size) {
            throw new IOException("zip entry '" + name + "' produced " + (ch.position() - dataStart) + " bytes, expected " + size);
        }
        ByteBuffer crcBuf = le(4).putInt(crc).flip();
        while (crcBuf.hasRemaining()) {
            ch.write(crcBuf, local + 14 + crcBuf.position());
        }
        written.add(new Written(nameBytes, size, crc, local));
    }

    /** Writes the central directory and end records; the channel is left at the end of the archive. */
    void finish() throws IOException {
        long cdStart = ch.position();
        for (Written w : written) {
            boolean bigSize = w.size() >= MAX32;
            boolean bigOffset = w.localOffset() >= MAX32;
            int zip64Len = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
            ByteBuffer c = le(46 + w.name().length + (zip64Len > 0 ? 4 + zip64Len : 0));
            c.putInt(ZipArchive.CENTRAL_SIG).putShort((short) 45).putShort((short) (zip64Len > 0 ? 45 : 20))
                    .putShort((short) 0x0800).putShort((short) ZipArchive.STORED).putShort((short) 0).putShort((short) 0x21)
                    .putInt(w.crc()).putInt((int) (bigSize ? MAX32 : w.size())).putInt((int) (bigSize ? MAX32 : w.size()))
                    .putShort((short) w.name().length).putShort((short) (zip64Len > 0 ? 4 + zip64Len : 0))
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt((int) (bigOffset ? MAX32 : w.localOffset())).put(w.name());
            if (zip64Len > 0) {
                c.putShort((short) 1).putShort((short) zip64Len);
                if (bigSize) {
                    c.putLong(w.size()).putLong(w.size());
                }
                if (bigOffset) {
                    c.putLong(w.localOffset());
                }
            }
            put(ch, c.flip());
        }
        long cdEnd = ch.position();
        long cdSize = cdEnd - cdStart;
        long count = written.size();
        boolean zip64 = count >= 0xffff || cdSize >= MAX32 || cdStart >= MAX32;
        if (zip64) {
            ByteBuffer z = le(56 + 20);
            z.putInt(ZipArchive.ZIP64_EOCD_SIG).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(count).putLong(count).putLong(cdSize).putLong(cdStart);
            z.putInt(ZipArchive.ZIP64_LOCATOR_SIG).putInt(0).putLong(cdEnd).putInt(1);
            put(ch, z.flip());
        }
        ByteBuffer e = le(22);
        e.putInt(ZipArchive.EOCD_SIG).putShort((short) 0).putShort((short) 0)
                .putShort((short) (zip64 ? 0xffff : count)).putShort((short) (zip64 ? 0xffff : count))
                .putInt((int) (zip64 ? MAX32 : cdSize)).putInt((int) (zip64 ? MAX32 : cdStart)).putShort((short) 0);
        put(ch, e.flip());
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void put(FileChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }
}
