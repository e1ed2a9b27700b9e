package sdj.io;

import java.io.IOException;

/**
 * A checkpoint or tensor file that cannot be read or written: truncated, corrupted, unsafe or in a
 * format sdj does not support. The message is one sentence naming the file and what to do.
 */
public class CheckpointException extends IOException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
