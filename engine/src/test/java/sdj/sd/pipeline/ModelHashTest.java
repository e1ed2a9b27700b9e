package sdj.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.TestData;

/** Expected hashes from Python's hashlib (sha256 of the bytes at 1 MiB, first 8 hex digits), as A1111 computes them. */
class ModelHashTest {
    @TempDir
    Path dir;

    /** Byte i is (31·i + 7) mod 256. */
    private Path pattern(String name, int length) throws Exception {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (31 * i + 7);
        }
        return Files.write(dir.resolve(name), b);
    }

    @Test
    void hashesThe64KiBAtOneMiB() throws Exception {
        assertEquals("ef463692", ModelHash.of(pattern("long.ckpt", 0x100000 + 0x10000 + 100)));
    }

    @Test
    void aShortFileHashesWhatLiesPastOneMiB() throws Exception {
        assertEquals("5097e7d5", ModelHash.of(pattern("short.ckpt", 0x100000 + 1000)));
        // nothing past 1 MiB: the hash of no bytes, as Python's seek past the end and read() give
        assertEquals("e3b0c442", ModelHash.of(pattern("tiny.ckpt", 1000)));
    }

    @Test
    void sdTinyCheckpoint() throws Exception {
        assertEquals("4d92c022", ModelHash.of(TestData.sdTiny("model.ckpt")));
    }
}
