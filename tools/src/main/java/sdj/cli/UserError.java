package sdj.cli;

/** An error caused by the user's input: printed as one sentence, without a stack trace. */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
