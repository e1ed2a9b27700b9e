package sdj.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static sdj.ops.OpAssert.assertValues;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class UnaryTest {
    /** fp32 results of elementary functions: within a few ulps of the double reference. */
    private static final double FP32 = 1e-6;

    /** Each elementwise op with a double-precision reference formula and a domain where it is smooth. */
    enum Fn {
        NEG(Unary::neg, x -> -x),
        ADD_SCALAR(x -> x.add(2.5f), x -> x + 2.5),
        MUL_SCALAR(x -> x.mul(-1.5f), x -> -1.5 * x),
        EXP(Unary::exp, Math::exp),
        LOG(Unary::log, Math::log, 0.5, 2),
        SQRT(Unary::sqrt, Math::sqrt, 0.5, 2),
        RSQRT(Unary::rsqrt, x -> 1 / Math.sqrt(x), 0.5, 2),
        POW_CUBE(x -> Unary.pow(x, 3f), x -> x * x * x),
        POW_FRACTIONAL(x -> Unary.pow(x, 1.5f), x -> x * Math.sqrt(x), 0.5, 2),
        SQUARE(Unary::square, x -> x * x),
        TANH(Unary::tanh, Math::tanh, -2, 2),
        SIGMOID(Unary::sigmoid, x -> 1 / (1 + Math.exp(-x)), -3, 3),
        SILU(F::silu, x -> x / (1 + Math.exp(-x)), -3, 3),
        QUICK_GELU(F::quickGelu, x -> x / (1 + Math.exp(-1.702 * x)), -3, 3),
        GELU_TANH(F::geluTanh, UnaryTest::geluTanhReference, -3, 3),
        GELU(F::gelu, null, -3, 3); // reference values are the tabulated constants in geluKnownValues

        final UnaryOperator<Tensor> op;
        final DoubleUnaryOperator ref;
        final double lo;
        final double hi;

        Fn(UnaryOperator<Tensor> op, DoubleUnaryOperator ref) {
            this(op, ref, -1, 1);
        }

        Fn(UnaryOperator<Tensor> op, DoubleUnaryOperator ref, double lo, double hi) {
            this.op = op;
            this.ref = ref;
            this.lo = lo;
            this.hi = hi;
        }
    }

    static double geluTanhReference(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    @ParameterizedTest
    @EnumSource(value = Fn.class, names = "GELU", mode = EnumSource.Mode.EXCLUDE)
    void forwardMatchesDoubleReference(Fn fn) {
        Tensor x = Rand.uniform(11, fn.lo, fn.hi, 40, 250); // 10⁴ elements: split over threads
        double[] xv = OpAssert.doubles(x);
        double[] expected = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            expected[i] = fn.ref.applyAsDouble(xv[i]);
        }
        assertValues(expected, x.shape(), fn.op.apply(x), FP32);
    }

    @ParameterizedTest
    @EnumSource(Fn.class)
    void gradientMatchesFiniteDifferences(Fn fn) {
        GradCheck.check(in -> fn.op.apply(in[0]), Rand.uniform(12, fn.lo, fn.hi, 2, 5).requiresGrad(true));
    }

    @Test
    void gradientOfNonContiguousInput() {
        GradCheck.check(in -> Unary.tanh(in[0].transpose(0, 1)), Rand.param(13, 3, 4));
    }

    private static void assertPoints(UnaryOperator<Tensor> op, double[] x, double[] expected) {
        float[] xf = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            xf[i] = (float) x[i];
        }
        assertValues(expected, op.apply(Tensor.of(xf, xf.length)), FP32);
    }

    @Test
    void geluKnownValues() {
        // GELU(x) = x·Φ(x); Φ(1) = 0.8413447460685429 etc. (standard normal CDF tables)
        assertPoints(F::gelu, new double[] {0, 1, -1, 2, 0.5, -3},
                new double[] {0, 0.8413447460685429, -0.15865525393145707, 1.9544997361036416, 0.34573123063700656,
                    -0.00404969409489031});
    }

    @Test
    void sigmoidSiluQuickGeluKnownValues() {
        assertPoints(Unary::sigmoid, new double[] {0, 1}, new double[] {0.5, 0.7310585786300049});
        assertPoints(F::silu, new double[] {0, 1, -1}, new double[] {0, 0.7310585786300049, -0.2689414213699951});
        // quick_gelu(±1) = ±σ(±1.702)
        assertPoints(F::quickGelu, new double[] {1, -1}, new double[] {0.8457957659328212, -0.1542042340671787});
        // gelu_tanh(1) = 0.5·(1 + tanh(√(2/π)·1.044715))
        assertPoints(F::geluTanh, new double[] {1}, new double[] {0.8411919906082768});
    }

    @Test
    void vectorizedGeluAndSiluMatchTheScalarDefinitionsOverAWideRange() {
        // The vector loops use different formulas (erfc fit, exp(−|x|)); check them against the exact
        // scalar ones into the tails, where relative error is the hard part. Below x = −6 the reference
        // 1 + erf(x/√2) itself cancels to nothing, so the GELU check stops there.
        Tensor xg = Rand.uniform(14, -6.0, 6.0, 50, 201);
        Tensor xs = Rand.uniform(15, -30.0, 30.0, 50, 201);
        float[] g = xg.floats();
        float[] s = xs.floats();
        double[] gelu = new double[g.length];
        double[] silu = new double[s.length];
        for (int i = 0; i < g.length; i++) {
            gelu[i] = 0.5 * g[i] * ErfReference.erfc(-g[i] / Math.sqrt(2)); // 1 + erf(g/√2)
            silu[i] = s[i] / (1 + Math.exp(-s[i]));
        }
        assertRelative(gelu, F.gelu(xg));
        assertRelative(silu, F.silu(xs));
    }

    private static void assertRelative(double[] expected, Tensor actual) {
        float[] a = actual.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertEquals(expected[i], a[i], FP32 * Math.abs(expected[i]), "element " + i);
        }
    }
}
