package sdj.train.data;

/**
 * Training data that cannot be used: a bad setting, a missing or empty folder, an image that does
 * not decode, a caption file that does not parse. The message is one sentence naming the value or
 * file and what to do; every such problem is raised when the dataset is opened, before training.
 */
public class DataException extends IllegalArgumentException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
