package sdj.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Maps a whole file read-only, so tensors can be views of it without reading it into the heap. */
final class MappedFile {
    private MappedFile() {
    }

    /**
     * The file's bytes as a read-only segment. The mapping lives in an automatic arena: it stays
     * valid while any tensor view of it is reachable and is unmapped by the GC afterwards.
     */
    static MemorySegment map(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                return MemorySegment.ofArray(new byte[0]);
            }
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path + ": no such file");
        }
    }
}
