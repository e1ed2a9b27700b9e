package sdj.backend.cuda;

/** Activation functions of elementwise.cu; the codes match its ACT_* constants. */
public enum Activation {
    SILU(0), GELU(1), GELU_TANH(2), QUICK_GELU(3), SIGMOID(4), TANH(5);

    final int code;

    Activation(int code) {
        this.code = code;
    }
}
