package sdj.sd.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * AUTOMATIC1111's legacy model hash, the "Model hash" of {@link A1111Parameters}: the first 8 hex
 * digits of SHA-256 over the 64 KiB at offset 1 MiB (cheap even for 4 GB files; the full-file AutoV2
 * hash would read everything). A file shorter than that hashes what lies past 1 MiB, possibly nothing.
 */
public final class ModelHash {
    private static final long OFFSET = 0x100000;
    private static final int LENGTH = 0x10000;

    private ModelHash() {
    }

    public static String of(Path checkpoint) throws IOException {
        try (InputStream in = Files.newInputStream(checkpoint)) {
            in.skipNBytes(Math.min(OFFSET, Files.size(checkpoint)));
            byte[] block = in.readNBytes(LENGTH);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(block)).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
