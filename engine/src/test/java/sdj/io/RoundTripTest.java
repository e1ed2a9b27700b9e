package sdj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/** What sdj writes, sdj (and java.util.zip, an independent zip reader) reads back bit-exactly. */
class RoundTripTest {
    @TempDir
    Path dir;

    /** One small tensor of every dtype with distinct, non-trivial bit patterns. */
    static Map<String, Tensor> everyDType() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        int i = 0;
        for (DType d : DType.values()) {
            int[] shape = {2, 3};
            Storage s = Storage.allocate(d, 6);
            for (int k = 0; k < 6; k++) {
                long bits = 0x9E3779B97F4A7C15L * (k + 7L * i + 1);
                MemorySegment seg = s.segment();
                for (int b = 0; b < d.byteSize; b++) {
                    seg.set(ValueLayout.JAVA_BYTE, (long) k * d.byteSize + b, (byte) (bits >>> (8 * b)));
                }
                if (d == DType.BOOL) {
                    seg.set(ValueLayout.JAVA_BYTE, k, (byte) (k & 1));
                }
            }
            m.put("t." + d.name().toLowerCase(), new Tensor(s, shape, Shape.contiguousStrides(shape), 0));
            i++;
        }
        m.put("scalar", Tensor.scalar(2.5f).view());
        m.put("empty", Tensor.zeros(0, 4));
        return m;
    }

    static byte[] bytesOf(Tensor t) {
        int es = t.dtype().byteSize;
        byte[] out = new byte[Math.toIntExact(t.numel() * es)];
        if (t.isContiguous()) {
            MemorySegment.copy(t.storage().segment(), t.offset() * es, MemorySegment.ofArray(out), 0, out.length);
            return out;
        }
        int[] shape = t.shape();
        int[] strides = t.strides();
        int[] idx = new int[shape.length];
        for (int i = 0; i < t.numel(); i++) {
            long p = t.offset();
            for (int d = 0; d < shape.length; d++) {
                p += (long) idx[d] * strides[d];
            }
            MemorySegment.copy(t.storage().segment(), p * es, MemorySegment.ofArray(out), (long) i * es, es);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    static void assertSameTensors(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            Tensor a = want.get(k);
            Tensor b = got.get(k);
            assertEquals(a.dtype(), b.dtype(), k);
            assertArrayEquals(a.shape(), b.shape(), k);
            assertArrayEquals(bytesOf(a), bytesOf(b), k);
        }
    }

    @Test
    void checkpointRoundTripsNestedValuesAndEveryDType() throws Exception {
        Map<String, Tensor> tensors = everyDType();
        Tensor base = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
        tensors.put("transposed", base.transpose(0, 1)); // strided view is saved contiguously
        tensors.put("narrowed", base.narrow(1, 1, 2));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("state_dict", tensors);
        root.put("global_step", 470000L);
        root.put("epoch", 3);
        root.put("big", 1L << 40);
        root.put("neg", -5L);
        root.put("lr", 1.0e-4);
        root.put("name", "sd-v1 ünïcode");
        root.put("none", null);
        root.put("flags", Arrays.asList(true, false, null, List.of(1L, 2L)));
        root.put("tuple", new Object[] {"a", 1L, 2.0, 4L});
        root.put("pair", new Object[] {1L, 2L});
        Path p = dir.resolve("out.ckpt");
        TorchCheckpointWriter.write(p, root);

        TorchCheckpoint back = TorchCheckpoint.open(p);
        Map<?, ?> r = (Map<?, ?>) back.root();
        assertEquals(List.of("state_dict", "global_step", "epoch", "big", "neg", "lr", "name", "none", "flags", "tuple", "pair"),
                List.copyOf(r.keySet()));
        assertEquals(470000L, r.get("global_step"));
        assertEquals(3L, r.get("epoch"));
        assertEquals(1L << 40, r.get("big"));
        assertEquals(-5L, r.get("neg"));
        assertEquals(1.0e-4, r.get("lr"));
        assertEquals("sd-v1 ünïcode", r.get("name"));
        assertNull(r.get("none"));
        assertEquals(Arrays.asList(true, false, null, List.of(1L, 2L)), r.get("flags"));
        assertEquals(List.of("a", 1L, 2.0, 4L), r.get("tuple"));
        assertEquals(List.of(1L, 2L), r.get("pair"));
        assertSameTensors(tensors, back.stateDict());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, back.stateDict().get("transposed").toFloatArray());
        assertArrayEquals(new float[] {1, 2, 4, 5}, back.stateDict().get("narrowed").toFloatArray());
    }

    @Test
    void checkpointLayoutIsWhatPyTorchWrites() throws Exception {
        Map<String, Tensor> tensors = everyDType();
        Path p = dir.resolve("layout.ckpt");
        TorchCheckpointWriter.write(p, Map.of("state_dict", tensors));
        // java.util.zip is an independent reader: it checks our directory, sizes and CRCs.
        try (ZipFile z = new ZipFile(p.toFile())) {
            List<String> names = z.stream().map(ZipEntry::getName).toList();
            assertEquals("archive/data.pkl", names.get(0));
            assertTrue(names.contains("archive/version"));
            assertEquals("3\n", new String(z.getInputStream(z.getEntry("archive/version")).readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals("little", new String(z.getInputStream(z.getEntry("archive/byteorder")).readAllBytes(), StandardCharsets.US_ASCII));
            for (ZipEntry e : z.stream().toList()) {
                assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
                z.getInputStream(e).readAllBytes(); // throws on a CRC mismatch
            }
            assertEquals(tensors.size(), names.stream().filter(n -> n.startsWith("archive/data/")).count());
        }
        // Every entry's data begins on a 64-byte boundary, as in files torch.save writes.
        ZipArchive zip = ZipArchive.read(MemorySegment.ofArray(Files.readAllBytes(p)), p.toString());
        for (ZipArchive.Entry e : zip.entries().values()) {
            assertEquals(0, e.dataOffset() % 64, e.name());
        }
        // The pickle starts like torch.save's: PROTO 2, then the root dict.
        byte[] pkl = zip.data(zip.entry("archive/data.pkl")).toArray(ValueLayout.JAVA_BYTE);
        assertEquals((byte) 0x80, pkl[0]);
        assertEquals(2, pkl[1]);
        assertTrue(new String(pkl, StandardCharsets.ISO_8859_1).contains("ctorch._utils\n_rebuild_tensor_v2\n"));
    }

    @Test
    void fp16CheckpointRewritesIdentically() throws Exception {
        Map<String, Tensor> sd = StateDicts.load(TestData.sdTiny("model-fp16.ckpt"));
        Path ckpt = dir.resolve("copy.ckpt");
        Path st = dir.resolve("copy.safetensors");
        StateDicts.save(ckpt, sd);
        StateDicts.save(st, sd);
        assertSameTensors(sd, StateDicts.load(ckpt));
        assertSameTensors(sd, StateDicts.load(st));
    }

    @Test
    void safetensorsRoundTripsWithMetadataAndAlignedHeader() throws Exception {
        Map<String, Tensor> tensors = everyDType();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("json", "{\"a\": [1, 2]}");
        Path p = dir.resolve("x.safetensors");
        SafeTensors.write(p, tensors, meta);
        SafeTensors back = SafeTensors.open(p);
        assertEquals(meta, back.metadata());
        assertSameTensors(tensors, back.tensors());
        byte[] raw = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        byte last = raw[(int) (8 + n - 1)];
        assertTrue(last == '}' || last == ' ', "header is padded with spaces");
        // Each tensor's data is aligned for its dtype.
        Map<?, ?> header = (Map<?, ?>) Json.parse(new String(raw, 8, (int) n, StandardCharsets.UTF_8));
        for (Map.Entry<?, ?> e : header.entrySet()) {
            if (!e.getKey().equals("__metadata__")) {
                Map<?, ?> spec = (Map<?, ?>) e.getValue();
                long begin = (Long) ((List<?>) spec.get("data_offsets")).get(0);
                assertEquals(0, (8 + n + begin) % SafeTensors.dtype((String) spec.get("dtype"), "", "").byteSize, e.getKey().toString());
            }
        }
    }

    @Test
    void referenceSafetensorsRewritesIdentically() throws Exception {
        SafeTensors ref = SafeTensors.open(TestData.sdTiny("reference.safetensors"));
        Path p = dir.resolve("ref.safetensors");
        SafeTensors.write(p, ref.tensors(), ref.metadata());
        SafeTensors back = SafeTensors.open(p);
        assertEquals(ref.metadata(), back.metadata());
        assertSameTensors(ref.tensors(), back.tensors());
    }

    @Test
    void writesAreAtomicAndLeaveNoTempFiles() throws Exception {
        Path p = dir.resolve("a.ckpt");
        TorchCheckpointWriter.write(p, Map.of("x", Tensor.arange(4)));
        Files.writeString(dir.resolve("keep.txt"), "unrelated");
        // An unsaveable value fails before the target is touched.
        try {
            TorchCheckpointWriter.write(p, Map.of("bad", new Object()));
        } catch (IOException expected) {
            assertTrue(expected.getMessage().contains("cannot save"), expected.getMessage());
        }
        assertArrayEquals(new float[] {0, 1, 2, 3}, StateDicts.load(p).get("x").toFloatArray());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("a.ckpt", "keep.txt"), files.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }
}
