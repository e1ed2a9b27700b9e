package sdj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
    @TempDir
    Path dir;

    @Test
    void newFileGetsTheModeAnyNewFileGets() throws IOException {
        Path plain = Files.createFile(dir.resolve("plain")); // 0666 less the umask
        Path written = dir.resolve("image.png");
        AtomicFile.write(written, new byte[] {1, 2, 3});
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(written));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(written));
    }

    @Test
    void replacedFileKeepsItsMode() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Files.write(target, new byte[] {9});
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString("rw-r-----");
        Files.setPosixFilePermissions(target, mode);
        AtomicFile.write(target, new byte[] {4, 5});
        assertEquals(mode, Files.getPosixFilePermissions(target));
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(target));
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTempFile() throws IOException {
        Path target = dir.resolve("last-good.ckpt");
        Files.write(target, new byte[] {7, 7});
        assertThrows(IOException.class, () -> AtomicFile.write(target, ch -> {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
            throw new IOException("disk full");
        }));
        assertArrayEquals(new byte[] {7, 7}, Files.readAllBytes(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the old file remains");
        }
    }
}
