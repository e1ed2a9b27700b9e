package sdj.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads a zip archive's central directory (zip64 included) over a mapped file and hands out each
 * entry's bytes: stored entries as zero-copy slices of the mapping, deflated ones inflated off-heap.
 * java.util.zip.ZipFile cannot do the former: it neither maps nor tells where an entry's data lies.
 * Every offset and size read from the file is checked against the file's bounds before use.
 */
final class ZipArchive {
    static final int LOCAL_SIG = 0x04034b50;
    static final int CENTRAL_SIG = 0x02014b50;
    static final int EOCD_SIG = 0x06054b50;
    static final int ZIP64_EOCD_SIG = 0x06064b50;
    static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    static final int STORED = 0;
    static final int DEFLATED = 8;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Deflate cannot expand data more than about 1032:1; a larger claim is a lie that would waste memory. */
    private static final long MAX_DEFLATE_RATIO = 1100;

    /** One file in the archive: where its data starts in the archive and how big it is. */
    record Entry(String name, int method, long compressedSize, long size, long dataOffset, int crc, long centralOffset) {
    }

    private final MemorySegment file;
    private final String source;
    private final Map<String, Entry> entries;

    private ZipArchive(MemorySegment file, String source, Map<String, Entry> entries) {
        this.file = file;
        this.source = source;
        this.entries = entries;
    }

    /** Indexes the archive in {@code file}; {@code source} names it in error messages. */
    static ZipArchive read(MemorySegment file, String source) throws CheckpointException {
        return new Reader(file, source).read();
    }

    /** Entries by name, in central-directory order. */
    Map<String, Entry> entries() {
        return entries;
    }

    Entry entry(String name) {
        return entries.get(name);
    }

    /** The entry's uncompressed bytes: a slice of the mapping when stored, an inflated copy when deflated. */
    MemorySegment data(Entry e) throws CheckpointException {
        MemorySegment raw = file.asSlice(e.dataOffset(), e.compressedSize());
        if (e.method() == STORED) {
            return raw;
        }
        return inflate(e, raw);
    }

    /** Like {@link #data} but also checks the CRC-32 (for small entries such as the pickle). */
    MemorySegment verifiedData(Entry e) throws CheckpointException {
        MemorySegment d = data(e);
        if (d.byteSize() > Integer.MAX_VALUE) {
            throw new CheckpointException(source + ": zip entry '" + e.name() + "' is too large (" + d.byteSize() + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(d.asByteBuffer());
        if ((int) crc.getValue() != e.crc()) {
            throw new CheckpointException(source + ": zip entry '" + e.name() + "' fails its CRC check; the file is corrupted, "
                    + "download or copy it again");
        }
        return d;
    }

    private MemorySegment inflate(Entry e, MemorySegment raw) throws CheckpointException {
        if (raw.byteSize() > Integer.MAX_VALUE) {
            throw new CheckpointException(source + ": zip entry '" + e.name() + "' is a deflated entry over 2 GB, which sdj "
                    + "does not inflate; re-save the file without compression (torch.save does so by default)");
        }
        // One spare byte tells a stream that inflates to more than the directory says from an exact one.
        MemorySegment out = Arena.ofAuto().allocate(e.size() + 1);
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(raw.asByteBuffer());
            long written = 0;
            while (!inf.finished() && written <= e.size()) {
                long chunk = Math.min(e.size() + 1 - written, 1 << 30);
                int n = inf.inflate(out.asSlice(written, chunk).asByteBuffer());
                written += n;
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    break;
                }
            }
            if (written != e.size() || !inf.finished()) {
                throw new CheckpointException(source + ": zip entry '" + e.name() + "' does not inflate to the " + e.size()
                        + " bytes its directory says; the file is corrupted, download or copy it again");
            }
        } catch (DataFormatException ex) {
            throw new CheckpointException(source + ": zip entry '" + e.name() + "' holds corrupt deflate data ("
                    + ex.getMessage() + "); the file is damaged, download or copy it again");
        } finally {
            inf.end();
        }
        return out.asSlice(0, e.size());
    }

    // ---------------------------------------------------------------- directory parsing

    private static final class Reader {
        private final MemorySegment f;
        private final String source;
        private final long size;

        Reader(MemorySegment f, String source) {
            this.f = f;
            this.source = source;
            this.size = f.byteSize();
        }

        private CheckpointException bad(String what) {
            return new CheckpointException(source + ": " + what + "; the file is truncated or corrupted, download or copy it again");
        }

        private int u16(long at) throws CheckpointException {
            need(at, 2);
            return f.get(U16, at) & 0xffff;
        }

        private long u32(long at) throws CheckpointException {
            need(at, 4);
            return f.get(U32, at) & 0xffffffffL;
        }

        private long u64(long at) throws CheckpointException {
            need(at, 8);
            long v = f.get(U64, at);
            if (v < 0) {
                throw bad("zip field at byte " + at + " holds an impossible size or offset");
            }
            return v;
        }

        private void need(long at, long n) throws CheckpointException {
            if (at < 0 || n < 0 || at > size - n) {
                throw bad("zip structure at byte " + at + " runs past the end of the file (" + size + " bytes)");
            }
        }

        ZipArchive read() throws CheckpointException {
            long eocd = findEocd();
            long count = u16(eocd + 10);
            long cdSize = u32(eocd + 12);
            long cdOffset = u32(eocd + 16);
            if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
                long[] z = zip64Directory(eocd);
                count = z[0];
                cdSize = z[1];
                cdOffset = z[2];
            }
            need(cdOffset, cdSize);
            // Each central header is at least 46 bytes: a count the directory cannot hold is a lie.
            if (count > cdSize / 46) {
                throw bad("zip directory claims " + count + " entries in " + cdSize + " bytes");
            }
            Map<String, Entry> entries = new LinkedHashMap<>();
            long p = cdOffset;
            long end = cdOffset + cdSize;
            for (long i = 0; i < count; i++) {
                Entry e = centralEntry(p, end);
                if (entries.put(e.name(), e) != null) {
                    throw bad("zip directory lists '" + e.name() + "' twice");
                }
                p = nextCentral;
            }
            return new ZipArchive(f, source, Collections.unmodifiableMap(entries));
        }

        private long nextCentral;

        private long findEocd() throws CheckpointException {
            if (size < 22) {
                throw bad("file of " + size + " bytes is too short to be a zip archive");
            }
            // The end record is 22 bytes plus a comment of up to 65535 bytes; scan back for it.
            long stop = Math.max(0, size - 22 - 0xffff);
            for (long p = size - 22; p >= stop; p--) {
                if (f.get(U32, p) == EOCD_SIG && p + 22 + u16(p + 20) == size) {
                    return p;
                }
            }
            throw bad("no zip end-of-directory record found");
        }

        /** Returns {entry count, directory size, directory offset} from the zip64 records. */
        private long[] zip64Directory(long eocd) throws CheckpointException {
            long loc = eocd - 20;
            if (loc < 0 || f.get(U32, Math.max(0, loc)) != ZIP64_LOCATOR_SIG) {
                throw bad("zip64 end-of-directory locator missing");
            }
            long rec = u64(loc + 8);
            need(rec, 56);
            if (u32(rec) != ZIP64_EOCD_SIG) {
                throw bad("zip64 end-of-directory record missing at byte " + rec);
            }
            return new long[] {u64(rec + 32), u64(rec + 40), u64(rec + 48)};
        }

        private Entry centralEntry(long p, long end) throws CheckpointException {
            if (p > end - 46 || u32(p) != CENTRAL_SIG) {
                throw bad("zip directory entry at byte " + p + " is damaged");
            }
            int flags = u16(p + 8);
            int method = u16(p + 10);
            int crc = (int) u32(p + 16);
            long csize = u32(p + 20);
            long usize = u32(p + 24);
            int nameLen = u16(p + 28);
            int extraLen = u16(p + 30);
            int commentLen = u16(p + 32);
            long localOffset = u32(p + 42);
            long entryEnd = p + 46 + nameLen + extraLen + commentLen;
            if (entryEnd > end) {
                throw bad("zip directory entry at byte " + p + " runs past the directory");
            }
            String name = new String(f.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            if ((flags & 1) != 0) {
                throw new CheckpointException(source + ": zip entry '" + name + "' is encrypted, which sdj does not read");
            }
            if (method != STORED && method != DEFLATED) {
                throw new CheckpointException(source + ": zip entry '" + name + "' uses compression method " + method
                        + "; only stored and deflated entries are supported, re-save the file with torch.save");
            }
            // Zip64: fields saturated at 0xFFFFFFFF are given in the 0x0001 extra field, in this order.
            long extra = p + 46 + nameLen;
            long extraEnd = extra + extraLen;
            boolean needU = usize == 0xffffffffL;
            boolean needC = csize == 0xffffffffL;
            boolean needO = localOffset == 0xffffffffL;
            while (extra + 4 <= extraEnd && (needU || needC || needO)) {
                int id = u16(extra);
                int len = u16(extra + 2);
                long body = extra + 4;
                if (body + len > extraEnd) {
                    throw bad("zip extra field of '" + name + "' runs past its entry");
                }
                if (id == 0x0001) {
                    long q = body;
                    if (needU) {
                        usize = field64(q, body + len, name);
                        q += 8;
                        needU = false;
                    }
                    if (needC) {
                        csize = field64(q, body + len, name);
                        q += 8;
                        needC = false;
                    }
                    if (needO) {
                        localOffset = field64(q, body + len, name);
                        needO = false;
                    }
                }
                extra = body + len;
            }
            if (needU || needC || needO) {
                throw bad("zip entry '" + name + "' lacks the zip64 sizes its directory entry promises");
            }
            long dataOffset = localData(localOffset, name);
            need(dataOffset, csize);
            if (method == STORED && csize != usize) {
                throw bad("stored zip entry '" + name + "' has different stored and real sizes");
            }
            if (method == DEFLATED && usize > csize * MAX_DEFLATE_RATIO + 1024) {
                throw bad("zip entry '" + name + "' claims " + usize + " bytes from " + csize + " compressed bytes");
            }
            nextCentral = entryEnd;
            return new Entry(name, method, csize, usize, dataOffset, crc, p);
        }

        private long field64(long q, long limit, String name) throws CheckpointException {
            if (q + 8 > limit) {
                throw bad("zip64 extra field of '" + name + "' is too short");
            }
            return u64(q);
        }

        /** Where the entry's data starts: after its local header, whose name and extra lengths may differ from the central ones. */
        private long localData(long local, String name) throws CheckpointException {
            need(local, 30);
            if (u32(local) != LOCAL_SIG) {
                throw bad("zip entry '" + name + "' has no local header at byte " + local);
            }
            return local + 30 + u16(local + 26) + u16(local + 28);
        }
    }
}
