package sdj.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so readers never see it half-written: into a temporary file in the same folder,
 * fsync, then rename over the target (a crash leaves either the old file or the new one).
 *
 * <p>The temporary file is created like any new file (mode 0666 less the umask), not with
 * {@code Files.createTempFile}'s private 0600, so images and checkpoints come out readable as users
 * expect; when the target already exists, its permissions carry over to the replacement.
 */
public final class AtomicFile {
    /** Writes the file's content into an open channel. */
    public interface Body {
        void write(FileChannel ch) throws IOException;
    }

    private AtomicFile() {
    }

    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    public static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = null;
        boolean done = false;
        try {
            FileChannel ch = null;
            while (ch == null) {
                tmp = dir.resolve("." + abs.getFileName() + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                        + ".tmp");
                try {
                    ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException taken) {
                    tmp = null; // another writer's temp file: pick another name
                }
            }
            try (FileChannel open = ch) {
                body.write(open);
                open.force(true);
            }
            keepPermissions(abs, tmp);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done && tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** A replaced file keeps its mode (a checkpoint a user made group-readable stays so). */
    private static void keepPermissions(Path target, Path tmp) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(target, PosixFileAttributeView.class);
        if (view != null && Files.exists(target)) {
            Files.setPosixFilePermissions(tmp, view.readAttributes().permissions());
        }
    }
}
