package sdj.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import sdj.tensor.DType;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * Opt-in: writes a 4.4 GB zip64 checkpoint shaped like sd-v1-4.ckpt (1100 tensors) and checks that
 * opening it maps the file instead of reading it into the heap. Needs about 4.5 GB of free disk:
 * {@code mvn test -pl engine -Dtest=BigCheckpointTest -Dsdj.bigfile=true [-Dsdj.bigfile.path=/tmp/big.ckpt]
 * [-Dsdj.bigfile.keep=true]} (keep the file to try {@code ./sdj inspect /tmp/sdj-big.ckpt} on it).
 */
@EnabledIfSystemProperty(named = "sdj.bigfile", matches = "true")
class BigCheckpointTest {
    static final int TENSORS = 1100;
    static final int ROWS = 1024;
    static final int COLS = 1024;
    static final long SOURCE_FLOATS = 64L << 20; // 256 MB off-heap; tensors are views at varying offsets

    static float pattern(long i) {
        return (float) (i % 1_000_003);
    }

    static long sourceOffset(int tensor) {
        return (tensor * 7919L * COLS) % (SOURCE_FLOATS - (long) ROWS * COLS);
    }

    @Test
    void zip64CheckpointIsMappedNotRead() throws Exception {
        Path path = Path.of(System.getProperty("sdj.bigfile.path",
                Path.of(System.getProperty("java.io.tmpdir"), "sdj-big.ckpt").toString()));
        long t0 = System.nanoTime();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(SOURCE_FLOATS * 4, 64);
            for (long i = 0; i < SOURCE_FLOATS; i++) {
                src.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, pattern(i));
            }
            Storage storage = Storage.ofSegment(src, DType.F32);
            Map<String, Object> sd = new LinkedHashMap<>();
            for (int t = 0; t < TENSORS; t++) {
                sd.put("model.diffusion_model.block." + t + ".weight",
                        new Tensor(storage, new int[] {ROWS, COLS}, new int[] {COLS, 1}, sourceOffset(t)));
            }
            sd.put("position_ids", Tensor.ofLongs(new long[] {0, 1, 2, 3}, 1, 4));
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("state_dict", sd);
            root.put("global_step", 470000L);
            TorchCheckpointWriter.write(path, root);
        }
        double writeS = (System.nanoTime() - t0) / 1e9;
        long size = Files.size(path);
        assertTrue(size > (1L << 32) + (1L << 28), "file is " + size + " bytes, should be well over 4 GB");
        try {
            var heap = ManagementFactory.getMemoryMXBean();
            System.gc();
            long heapBefore = heap.getHeapMemoryUsage().getUsed();
            long t1 = System.nanoTime();
            TorchCheckpoint ckpt = TorchCheckpoint.open(path);
            LinkedHashMap<String, Tensor> tensors = ckpt.stateDict();
            double openMs = (System.nanoTime() - t1) / 1e6;
            long heapGrowth = heap.getHeapMemoryUsage().getUsed() - heapBefore;
            assertEquals(TENSORS + 1, tensors.size());
            assertTrue(heapGrowth < 200L << 20, "opening grew the heap by " + heapGrowth + " bytes");
            for (int t = 0; t < TENSORS; t++) {
                Tensor w = tensors.get("model.diffusion_model.block." + t + ".weight");
                assertTrue(w.storage().segment().isMapped());
                long base = sourceOffset(t);
                assertEquals(pattern(base), w.get(0, 0), "tensor " + t);
                assertEquals(pattern(base + (long) ROWS * COLS - 1), w.get(ROWS - 1, COLS - 1), "tensor " + t);
            }
            assertEquals(3L, tensors.get("position_ids").toLongArray()[3]);
            // The last storages lie beyond 4 GB, so their offsets came from zip64 extra fields.
            assertEquals(470000L, ((Map<?, ?>) ckpt.root()).get("global_step"));
            System.out.printf(Locale.ROOT, "big checkpoint: %d bytes written in %.1f s; opened and indexed in %.1f ms, "
                    + "heap grew %d kB%n", size, writeS, openMs, heapGrowth >> 10);
        } finally {
            if (!Boolean.getBoolean("sdj.bigfile.keep")) {
                Files.deleteIfExists(path);
            }
        }
    }
}
