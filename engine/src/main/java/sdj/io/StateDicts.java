package sdj.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.tensor.Tensor;

/** The one way the rest of sdj loads and saves weights, whatever the file format. */
public final class StateDicts {
    private StateDicts() {
    }

    public enum Format {
        TORCH, SAFETENSORS
    }

    /**
     * The named tensors of a .ckpt/.pt (its "state_dict", else its top-level tensors) or a
     * .safetensors file, as zero-copy views of the mapped file. The format is told by the content,
     * so a misnamed file still loads.
     */
    public static LinkedHashMap<String, Tensor> load(Path path) throws IOException {
        MemorySegment file = MappedFile.map(path);
        return switch (sniff(file, path)) {
            case TORCH -> TorchCheckpoint.read(file, path.toString()).stateDict();
            case SAFETENSORS -> SafeTensors.read(file, path.toString()).tensors();
        };
    }

    /** The format of a file judged by its first bytes (see {@link #sniff}). */
    public static Format formatOfContent(Path path) throws IOException {
        return sniff(MappedFile.map(path), path);
    }

    /**
     * A zip local header or the legacy torch.save prelude (PROTO 2, LONG1 of 10 bytes) means PyTorch;
     * a sane header length followed by '{' means safetensors (neither PyTorch prefix read as a
     * header length fits the 100 MB header cap, so the two cannot be confused). Content that is
     * neither goes to the reader the extension names, whose error then says what is wrong.
     */
    static Format sniff(MemorySegment file, Path path) {
        long size = file.byteSize();
        if (size >= 4) {
            int head = file.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0);
            if (head == 0x504b0304 || head == 0x80028a0a) {
                return Format.TORCH;
            }
        }
        if (size >= 9) {
            long headerLen = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen > 0 && headerLen <= SafeTensors.MAX_HEADER && file.get(ValueLayout.JAVA_BYTE, 8) == '{') {
                return Format.SAFETENSORS;
            }
        }
        try {
            return formatOf(path);
        } catch (CheckpointException unknownExtension) {
            return Format.SAFETENSORS;
        }
    }

    /** The format a file name asks for: .safetensors, or a PyTorch checkpoint (.ckpt, .pt, .pth, .bin). */
    public static Format formatOf(Path path) throws CheckpointException {
        String n = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".safetensors")) {
            return Format.SAFETENSORS;
        }
        if (n.endsWith(".ckpt") || n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".bin")) {
            return Format.TORCH;
        }
        throw new CheckpointException(path + ": unknown file type; name it .safetensors or .ckpt");
    }

    /** Saves tensors in the format the extension names (a .ckpt holds {"state_dict": tensors}). */
    public static void save(Path path, Map<String, Tensor> tensors) throws IOException {
        if (formatOf(path) == Format.SAFETENSORS) {
            SafeTensors.write(path, tensors, Map.of());
        } else {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("state_dict", new LinkedHashMap<>(tensors));
            TorchCheckpointWriter.write(path, root);
        }
    }
}
