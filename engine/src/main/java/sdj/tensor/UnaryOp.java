package sdj.tensor;

/**
 * The elementwise functions of one tensor that every backend implements, forward and backward.
 * POW reads the op's float parameter as its exponent; the others ignore it.
 */
public enum UnaryOp {
    SILU("silu"), GELU("gelu"), GELU_TANH("gelu_tanh"), QUICK_GELU("quick_gelu"), SIGMOID("sigmoid"), TANH("tanh"),
    EXP("exp"), LOG("log"), SQRT("sqrt"), RSQRT("rsqrt"), POW("pow");

    /** The name the op is recorded under on the tape. */
    public final String label;

    UnaryOp(String label) {
        this.label = label;
    }
}
