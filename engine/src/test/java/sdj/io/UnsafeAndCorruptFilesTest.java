package sdj.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.tensor.Tensor;

/** Hostile, legacy, truncated and corrupted files are refused with one-sentence CheckpointExceptions. */
class UnsafeAndCorruptFilesTest {
    @TempDir
    Path dir;

    /** A zip written by java.util.zip (not our writer) holding archive/data.pkl and optional storages. */
    static byte[] zipWith(byte[] pickle, Map<String, byte[]> storages, boolean deflate) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            put(z, "archive/data.pkl", pickle, deflate);
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                put(z, "archive/data/" + e.getKey(), e.getValue(), deflate);
            }
            put(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII), deflate);
        }
        return bytes.toByteArray();
    }

    private static void put(ZipOutputStream z, String name, byte[] data, boolean deflate) throws IOException {
        ZipEntry e = new ZipEntry(name);
        if (!deflate) {
            CRC32 crc = new CRC32();
            crc.update(data);
            e.setMethod(ZipEntry.STORED);
            e.setSize(data.length);
            e.setCrc(crc.getValue());
        }
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** PROTO 2, GLOBAL module name, SHORT_BINUNICODE arg, TUPLE1, REDUCE, STOP: module.name(arg). */
    static byte[] callPickle(String module, String name, String arg) {
        byte[] a = arg.getBytes(StandardCharsets.UTF_8);
        return concat(new byte[] {(byte) 0x80, 2}, ascii("c" + module + "\n" + name + "\n"),
                new byte[] {(byte) 0x8c, (byte) a.length}, a, new byte[] {(byte) 0x85, 'R', '.'});
    }

    private Path file(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private CheckpointException refuse(Path p) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> StateDicts.load(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), "message names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void osSystemPickleIsRefusedWithoutRunningIt() throws Exception {
        Path marker = dir.resolve("pwned");
        Path p = file("evil.ckpt", zipWith(callPickle("os", "system", "touch " + marker), Map.of(), false));
        CheckpointException e = refuse(p);
        assertTrue(e.getMessage().contains("'os.system'"), e.getMessage());
        assertTrue(e.getMessage().contains("refusing"), e.getMessage());
        assertFalse(Files.exists(marker));
    }

    @Test
    void otherDangerousGlobalsAreRefusedToo() throws Exception {
        String[][] globals = {{"builtins", "eval"}, {"posix", "system"}, {"subprocess", "Popen"}, {"torch", "load"},
            {"torch._utils", "_rebuild_device_tensor_from_numpy"}, {"__builtin__", "getattr"}};
        for (String[] g : globals) {
            Path p = file(g[0] + "." + g[1] + ".ckpt", zipWith(callPickle(g[0], g[1], "x"), Map.of(), true));
            assertTrue(refuse(p).getMessage().contains("'" + g[0] + "." + g[1] + "'"), g[0] + "." + g[1]);
        }
        // STACK_GLOBAL (protocol 4) is checked the same way.
        byte[] stackGlobal = concat(new byte[] {(byte) 0x80, 4, (byte) 0x8c, 2}, ascii("os"), new byte[] {(byte) 0x8c, 6},
                ascii("system"), new byte[] {(byte) 0x93, (byte) 0x8c, 1, 'x', (byte) 0x85, 'R', '.'});
        assertTrue(refuse(file("sg.ckpt", zipWith(stackGlobal, Map.of(), false))).getMessage().contains("'os.system'"));
    }

    @Test
    void legacyFormatIsNamed() throws Exception {
        // torch<1.6 files start with a pickled magic number: PROTO 2, LONG1 ...
        byte[] legacy = concat(new byte[] {(byte) 0x80, 2, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, '.'});
        CheckpointException e = refuse(file("old.ckpt", legacy));
        assertTrue(e.getMessage().contains("legacy torch.save format"), e.getMessage());
        assertTrue(e.getMessage().contains("torch>=1.6"), e.getMessage());
    }

    @Test
    void deflatedCheckpointFromAnotherZipWriterLoads() throws Exception {
        // {'w': tensor of 3 floats} hand-pickled the way torch.save does, zip made by java.util.zip, deflated.
        byte[] pkl = tensorPickle("FloatStorage", "0", 3, 0, 3);
        byte[] data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(3.25f).array();
        Path p = file("deflated.ckpt", zipWith(pkl, Map.of("0", data), true));
        Tensor w = StateDicts.load(p).get("w");
        assertEquals(3, w.numel());
        assertEquals(-2f, w.get(1));
        assertEquals(3.25f, w.get(2));
    }

    /** {'w': _rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel), offset, (size,), (1,), False, OrderedDict())}. */
    static byte[] tensorPickle(String storageClass, String key, long numel, int offset, int size) {
        return concat(new byte[] {(byte) 0x80, 2, '}', '(', (byte) 0x8c, 1, 'w'},
                ascii("ctorch._utils\n_rebuild_tensor_v2\n("),
                new byte[] {'(', (byte) 0x8c, 7}, ascii("storage"), ascii("ctorch\n" + storageClass + "\n"),
                new byte[] {(byte) 0x8c, (byte) key.length()}, ascii(key), new byte[] {(byte) 0x8c, 3}, ascii("cpu"),
                new byte[] {'J'}, le32((int) numel), new byte[] {'t', 'Q', 'J'}, le32(offset),
                new byte[] {'J'}, le32(size), new byte[] {(byte) 0x85, 'K', 1, (byte) 0x85, (byte) 0x89},
                ascii("ccollections\nOrderedDict\n)R"), new byte[] {'t', 'R', 'u', '.'});
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    @Test
    void storageShorterThanItsTensorIsRefused() throws Exception {
        byte[] eight = new byte[8];
        // numel says 3 floats but the entry holds 2.
        assertTrue(refuse(file("short.ckpt", zipWith(tensorPickle("FloatStorage", "0", 3, 0, 3), Map.of("0", eight), false)))
                .getMessage().contains("should hold 3"));
        // the storage is whole but the view reaches past it.
        assertTrue(refuse(file("view.ckpt", zipWith(tensorPickle("FloatStorage", "0", 2, 1, 2), Map.of("0", eight), false)))
                .getMessage().contains("does not fit its storage"));
        // a storage that is not in the archive.
        assertTrue(refuse(file("missing.ckpt", zipWith(tensorPickle("FloatStorage", "7", 2, 0, 2), Map.of("0", eight), false)))
                .getMessage().contains("missing"));
        // an unknown storage class is just another global off the allow-list.
        assertTrue(refuse(file("cls.ckpt", zipWith(tensorPickle("EvilStorage", "0", 2, 0, 2), Map.of("0", eight), false)))
                .getMessage().contains("torch.EvilStorage"));
    }

    @Test
    void hugeDeclaredLengthsAreRefusedBeforeAllocating() throws Exception {
        // BINUNICODE of 4 GB - 1 bytes in a 10-byte pickle.
        byte[] pkl = {(byte) 0x80, 2, 'X', (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'a', '.'};
        assertTrue(refuse(file("str.ckpt", zipWith(pkl, Map.of(), false))).getMessage().contains("runs past"));
        // safetensors header length near 2^63.
        byte[] st = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 3).put(ascii("{}      ")).array();
        assertTrue(refuse(file("huge.safetensors", st)).getMessage().contains("header length"));
    }

    @Test
    void truncatedFilesAreRefused() throws Exception {
        byte[] good = Files.readAllBytes(TestData.sdTiny("model-fp16.ckpt"));
        for (int cut : new int[] {0, 3, 100, good.length / 2, good.length - 23, good.length - 1}) {
            refuse(file("cut" + cut + ".ckpt", Arrays.copyOf(good, cut)));
        }
        byte[] st = Files.readAllBytes(TestData.sdTiny("reference.safetensors"));
        for (int cut : new int[] {0, 7, 8, 1000, st.length - 1}) {
            refuse(file("cut" + cut + ".safetensors", Arrays.copyOf(st, cut)));
        }
    }

    @Test
    void badSafetensorsHeadersAreRefused() throws Exception {
        String[][] cases = {
            {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "data_offsets span"},
            {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "overlap"},
            {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "outside"},
            {"{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", "dtype 'Q7'"},
            {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "bad dimension"},
            {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "lacks"},
            {"{\"__metadata__\":{\"k\":1}}", "not a string"},
            {"{\"a\":1,\"a\":2}", "duplicate"},
            {"[1,2]", "JSON"},
            {"{\"a\":{\"dtype\":\"F32\",", "header is not valid JSON (unexpected end-of-input"},
            {"{\"a\":" + "[".repeat(600), "header is not valid JSON (document nesting depth (513) exceeds the maximum allowed (512))"},
            {"{\"a\":" + "9".repeat(2000) + "}", "header is not valid JSON (number value length (2000) exceeds the maximum allowed (1000))"},
        };
        int i = 0;
        for (String[] c : cases) {
            byte[] json = ascii(c[0]);
            byte[] f = concat(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array(), json, new byte[8]);
            String msg = refuse(file("bad" + i++ + ".safetensors", f)).getMessage();
            assertTrue(msg.contains(c[1]), c[0] + " -> " + msg);
            assertFalse(msg.contains("Source:") || msg.contains("`") || msg.contains("jackson"), "no parser internals: " + msg);
        }
    }

    @Test
    void corruptZipDirectoryIsRefused() throws Exception {
        byte[] good = zipWith(tensorPickle("FloatStorage", "0", 2, 0, 2), Map.of("0", new byte[8]), false);
        int eocd = good.length - 22;
        // Directory offset pointing past the end.
        byte[] a = good.clone();
        ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + 16, 0x7fffff00);
        refuse(file("cdoff.ckpt", a));
        // Entry count larger than the directory can hold.
        byte[] b = good.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putShort(eocd + 10, (short) 0xfff0).putShort(eocd + 8, (short) 0xfff0);
        refuse(file("count.ckpt", b));
        // A flipped byte in the pickle is caught by the CRC.
        byte[] c = good.clone();
        c[60] ^= 0x55;
        refuse(file("crc.ckpt", c));
    }
}
