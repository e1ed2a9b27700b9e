package sdj.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.tensor.Tensor;

/**
 * Loads mutated copies of real files (byte flips, digit swaps, truncations, insertions): every
 * mutation must either load or throw CheckpointException, within a timeout. The default budget is
 * small so the suite stays fast; a long run is
 * {@code mvn test -pl engine -Dtest=FuzzTest -Dsdj.fuzz.iterations=100000 [-Dsdj.fuzz.seed=N]}.
 */
class FuzzTest {
    static final int ITERATIONS = Integer.getInteger("sdj.fuzz.iterations", 250);
    static final long SEED = Long.getLong("sdj.fuzz.seed", 20240613L);
    static final long TIMEOUT_S = 20;

    static ExecutorService pool;

    @BeforeAll
    static void start() {
        pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-load");
            t.setDaemon(true); // a hung load must not keep the JVM alive
            return t;
        });
    }

    @AfterAll
    static void stop() {
        pool.shutdownNow();
    }

    interface Loader {
        void load(MemorySegment file) throws Exception;
    }

    /** Reads every tensor's first and last element, so views are proven in bounds. */
    static void touchAll(Map<String, Tensor> tensors) {
        for (Tensor t : tensors.values()) {
            if (t.numel() > 0) {
                long last = t.offset();
                for (int d = 0; d < t.dim(); d++) {
                    last += (long) (t.size(d) - 1) * t.strides()[d];
                }
                t.storage().getFloat(t.offset());
                t.storage().getFloat(last);
            }
        }
    }

    /** Runs one load with a timeout; returns true when it loaded, false when it was refused properly. */
    static boolean check(Loader loader, MemorySegment file, String what) throws InterruptedException {
        Future<?> f = pool.submit(() -> {
            loader.load(file);
            return null;
        });
        try {
            f.get(TIMEOUT_S, TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException e) {
            f.cancel(true);
            fail(what + ": load did not finish in " + TIMEOUT_S + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof CheckpointException) {
                return false;
            }
            throw new AssertionError(what + ": expected CheckpointException but got " + e.getCause(), e.getCause());
        }
        return false;
    }

    @Test
    void mutatedCheckpoints() throws Exception {
        byte[] bytes = Files.readAllBytes(TestData.sdTiny("model-fp16.ckpt"));
        ZipArchive zip = ZipArchive.read(MemorySegment.ofArray(bytes.clone()), "original");
        ZipArchive.Entry pkl = zip.entry("model-fp16/data.pkl");
        int pklStart = (int) pkl.dataOffset();
        int pklEnd = pklStart + (int) pkl.size();
        int crcAt = (int) pkl.centralOffset() + 16;
        long firstCentral = zip.entries().values().stream().mapToLong(ZipArchive.Entry::centralOffset).min().orElseThrow();
        Loader load = f -> touchAll(TorchCheckpoint.read(f, "fuzz.ckpt").stateDict());
        Random rnd = new Random(SEED);
        int loaded = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            int kind = rnd.nextInt(10);
            String what = "checkpoint mutation " + i + " (seed " + SEED + ", kind " + kind + ")";
            if (kind < 5) { // flip bytes inside the pickle, fixing its CRC so the parser sees them
                byte[] saved = Arrays.copyOfRange(bytes, pklStart, pklEnd);
                byte[] savedCrc = Arrays.copyOfRange(bytes, crcAt, crcAt + 4);
                flip(bytes, pklStart, pklEnd, rnd);
                CRC32 crc = new CRC32();
                crc.update(bytes, pklStart, pklEnd - pklStart);
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(crcAt, (int) crc.getValue());
                loaded += check(load, MemorySegment.ofArray(bytes), what) ? 1 : 0;
                System.arraycopy(saved, 0, bytes, pklStart, saved.length);
                System.arraycopy(savedCrc, 0, bytes, crcAt, 4);
            } else if (kind < 8) { // flip bytes in the central directory / end records, or anywhere
                int from = kind == 7 ? 0 : (int) firstCentral;
                byte[] saved = Arrays.copyOfRange(bytes, from, bytes.length);
                flip(bytes, from, bytes.length, rnd);
                loaded += check(load, MemorySegment.ofArray(bytes), what) ? 1 : 0;
                System.arraycopy(saved, 0, bytes, from, saved.length);
            } else if (kind == 8) { // truncate
                loaded += check(load, MemorySegment.ofArray(bytes).asSlice(0, rnd.nextInt(bytes.length)), what) ? 1 : 0;
            } else { // insert bytes into the pickle or the directory
                int at = rnd.nextBoolean() ? pklStart + rnd.nextInt(pklEnd - pklStart) : (int) firstCentral
                        + rnd.nextInt(bytes.length - (int) firstCentral);
                loaded += check(load, MemorySegment.ofArray(insert(bytes, at, rnd)), what) ? 1 : 0;
            }
        }
        assertTrue(check(load, MemorySegment.ofArray(bytes), "the restored original"), "original must still load");
        System.out.println("fuzz: " + ITERATIONS + " checkpoint mutations, " + loaded + " still loaded, the rest refused cleanly");
    }

    @Test
    void mutatedSafetensors() throws Exception {
        byte[] bytes = Files.readAllBytes(TestData.sdTiny("reference.safetensors"));
        int headerEnd = 8 + (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        Loader load = f -> {
            SafeTensors st = SafeTensors.read(f, "fuzz.safetensors");
            touchAll(st.tensors());
            st.metadata().size();
        };
        Random rnd = new Random(SEED + 1);
        int loaded = 0;
        for (int i = 0; i < ITERATIONS * 2; i++) {
            int kind = rnd.nextInt(10);
            String what = "safetensors mutation " + i + " (seed " + SEED + ", kind " + kind + ")";
            byte[] saved = Arrays.copyOf(bytes, headerEnd);
            if (kind < 4) { // flip header bytes
                flip(bytes, 0, headerEnd, rnd);
                loaded += check(load, MemorySegment.ofArray(bytes), what) ? 1 : 0;
            } else if (kind < 8) { // change digits: keeps the JSON valid and probes shape/offset checks
                for (int n = 1 + rnd.nextInt(3), tries = 0; n > 0 && tries < 10_000; tries++) {
                    int p = 8 + rnd.nextInt(headerEnd - 8);
                    if (bytes[p] >= '0' && bytes[p] <= '9') {
                        bytes[p] = (byte) ('0' + rnd.nextInt(10));
                        n--;
                    }
                }
                loaded += check(load, MemorySegment.ofArray(bytes), what) ? 1 : 0;
            } else if (kind == 8) {
                loaded += check(load, MemorySegment.ofArray(bytes).asSlice(0, rnd.nextInt(bytes.length)), what) ? 1 : 0;
            } else {
                loaded += check(load, MemorySegment.ofArray(insert(bytes, rnd.nextInt(headerEnd), rnd)), what) ? 1 : 0;
            }
            System.arraycopy(saved, 0, bytes, 0, headerEnd);
        }
        System.out.println("fuzz: " + ITERATIONS * 2 + " safetensors mutations, " + loaded + " still loaded");
    }

    /** Sets 1 to 8 random bytes in [from, to) to random values (or to 0x00/0xff, which hit edge cases). */
    private static void flip(byte[] b, int from, int to, Random rnd) {
        for (int n = 1 + rnd.nextInt(8); n > 0; n--) {
            int p = from + rnd.nextInt(to - from);
            b[p] = switch (rnd.nextInt(4)) {
                case 0 -> (byte) 0xff;
                case 1 -> 0;
                default -> (byte) rnd.nextInt(256);
            };
        }
    }

    private static byte[] insert(byte[] b, int at, Random rnd) {
        byte[] extra = new byte[1 + rnd.nextInt(16)];
        rnd.nextBytes(extra);
        byte[] out = new byte[b.length + extra.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(b, at, out, at + extra.length, b.length - at);
        return out;
    }
}
