package sdj.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdj.tensor.Tensor;

/**
 * Writes a checkpoint {@code torch.load} accepts: a stored zip with {@code archive/data.pkl}
 * (protocol-2 pickle), {@code archive/byteorder}, one 64-byte-aligned {@code archive/data/<n>} entry
 * per tensor and {@code archive/version}. Each tensor gets its own contiguous storage (as if cloned),
 * so views are written compactly. The file appears atomically (temp file, fsync, rename).
 */
public final class TorchCheckpointWriter {
    static final String ARCHIVE = "archive";

    private TorchCheckpointWriter() {
    }

    /** Saves {@code root}: typically a Map like {"state_dict": {...}, "global_step": 470000}. */
    public static void write(Path path, Object root) throws IOException {
        List<Tensor> tensors = new ArrayList<>();
        byte[] pickle;
        try {
            pickle = PickleWriter.write(root, t -> {
                tensors.add(t);
                return Integer.toString(tensors.size() - 1);
            });
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(path + ": cannot save this value (" + e.getMessage() + ")", e);
        }
        AtomicFile.write(path, ch -> {
            ZipWriter zip = new ZipWriter(ch);
            zip.add(ARCHIVE + "/data.pkl", pickle);
            zip.add(ARCHIVE + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                zip.add(ARCHIVE + "/data/" + i, TensorBytes.byteSize(t), c -> TensorBytes.write(t, c));
            }
            zip.add(ARCHIVE + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            zip.finish();
        });
    }
}
