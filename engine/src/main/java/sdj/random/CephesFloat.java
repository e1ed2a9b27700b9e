package sdj.random;

/**
 * Single-precision log and sin/cos computed step by step as the Cephes-derived polynomials of
 * {@code avx_mathfun.h} do (the code PyTorch's AVX2 {@code normal_fill} calls). These are not
 * correctly rounded, so bit-exact torch noise needs the same float operations in the same order;
 * {@code fma} says whether each multiply feeding an add is fused, as the compiler did in torch builds.
 */
final class CephesFloat {
    private static final float SQRTHF = 0.707106781186547524f;
    private static final float[] LOG_P = {
        7.0376836292E-2f, -1.1514610310E-1f, 1.1676998740E-1f, -1.2420140846E-1f, 1.4249322787E-1f,
        -1.6668057665E-1f, 2.0000714765E-1f, -2.4999993993E-1f, 3.3333331174E-1f};
    private static final float LOG_Q1 = -2.12194440e-4f;
    private static final float LOG_Q2 = 0.693359375f;

    private static final float FOPI = 1.27323954473516f; // 4/pi
    private static final float MINUS_DP1 = -0.78515625f;
    private static final float MINUS_DP2 = -2.4187564849853515625e-4f;
    private static final float MINUS_DP3 = -3.77489497744594108e-8f;
    private static final float SINCOF_P0 = -1.9515295891E-4f;
    private static final float SINCOF_P1 = 8.3321608736E-3f;
    private static final float SINCOF_P2 = -1.6666654611E-1f;
    private static final float COSCOF_P0 = 2.443315711809948E-005f;
    private static final float COSCOF_P1 = -1.388731625493765E-003f;
    private static final float COSCOF_P2 = 4.166664568298827E-002f;

    private final boolean fma;

    CephesFloat(boolean fma) {
        this.fma = fma;
    }

    /** a*b + c, fused or as two roundings. */
    private float madd(float a, float b, float c) {
        return fma ? Math.fma(a, b, c) : a * b + c;
    }

    /** Natural log for positive normal x (the only inputs normal_fill gives it: (0, 1]). */
    float log(float x) {
        x = Math.max(x, Float.MIN_NORMAL);
        int bits = Float.floatToRawIntBits(x);
        float e = (float) ((bits >>> 23) - 0x7f) + 1f;
        x = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f)); // mantissa in [0.5, 1)
        boolean small = x < SQRTHF;
        float tmp = small ? x : 0f;
        x = x - 1f;
        e = e - (small ? 1f : 0f);
        x = x + tmp;
        float z = x * x;
        float y = LOG_P[0];
        for (int i = 1; i < LOG_P.length; i++) {
            y = madd(y, x, LOG_P[i]);
        }
        y = y * x;
        y = y * z;
        y = madd(e, LOG_Q1, y);
        y = fma ? Math.fma(-z, 0.5f, y) : y - z * 0.5f;
        x = x + y;
        x = madd(e, LOG_Q2, x);
        return x;
    }

    /** sin and cos of a non-negative x, written to out[0] and out[1]. */
    void sincos(float x, float[] out) {
        float signSin = Math.copySign(1f, x);
        x = Math.abs(x);
        float y = x * FOPI;
        int j = (int) y;
        j = (j + 1) & ~1;
        y = (float) j;
        boolean swapSin = (j & 4) != 0;
        boolean firstPoly = (j & 2) == 0; // the sine comes from the sine polynomial
        x = madd(y, MINUS_DP1, x);
        x = madd(y, MINUS_DP2, x);
        x = madd(y, MINUS_DP3, x);
        boolean cosNegative = ((~(j - 2)) & 4) != 0;

        float z = x * x;
        float yc = COSCOF_P0;
        yc = madd(yc, z, COSCOF_P1);
        yc = madd(yc, z, COSCOF_P2);
        yc = yc * z;
        yc = fma ? Math.fma(yc, z, -(z * 0.5f)) : yc * z - z * 0.5f;
        yc = yc + 1f;

        float ys = SINCOF_P0;
        ys = madd(ys, z, SINCOF_P1);
        ys = madd(ys, z, SINCOF_P2);
        ys = ys * z;
        ys = madd(ys, x, x);

        float sin = firstPoly ? ys : yc;
        float cos = firstPoly ? yc : ys;
        if (swapSin) {
            sin = -sin;
        }
        out[0] = signSin < 0 ? -sin : sin;
        out[1] = cosNegative ? -cos : cos;
    }
}
