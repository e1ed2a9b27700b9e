package sdj.backend.cuda;

/**
 * Activations and math functions of elementwise.cu's activation kernels; the codes match its ACT_*
 * constants. POW reads the kernels' float parameter as its exponent; the others ignore it.
 */
public enum Activation {
    SILU(0), GELU(1), GELU_TANH(2), QUICK_GELU(3), SIGMOID(4), TANH(5), EXP(6), LOG(7), SQRT(8), RSQRT(9), POW(10);

    final int code;

    Activation(int code) {
        this.code = code;
    }
}
