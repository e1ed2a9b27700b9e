package sdj.ops;

import static sdj.ops.OpAssert.assertValues;
import static sdj.ops.OpAssert.shape;
import static sdj.ops.OpAssert.t;

import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sdj.ops.GradCheck.Rand;
import sdj.tensor.Tensor;

class BinaryTest {
    private static final double EXACT = 1e-6;

    /** The four ops with their double reference. */
    enum Op {
        ADD(Tensor::add, Double::sum),
        SUB(Tensor::sub, (a, b) -> a - b),
        MUL(Tensor::mul, (a, b) -> a * b),
        DIV(Tensor::div, (a, b) -> a / b);

        final BinaryOperator<Tensor> op;
        final DoubleBinaryOperator ref;

        Op(BinaryOperator<Tensor> op, DoubleBinaryOperator ref) {
            this.op = op;
            this.ref = ref;
        }
    }

    @Test
    void addBroadcastsRowVectorFromEitherSide() {
        Tensor a = t(shape(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = t(shape(3), 10, 20, 30);
        double[] expected = {11, 22, 33, 14, 25, 36};
        assertValues(expected, shape(2, 3), a.add(b), EXACT);
        assertValues(expected, shape(2, 3), b.add(a), EXACT);
    }

    @Test
    void subAndDivAgainstHandValues() {
        Tensor a = t(shape(2, 2), 1, 2, 3, 4);
        Tensor b = t(shape(2), 2, 4);
        assertValues(new double[] {-1, -2, 1, 0}, shape(2, 2), a.sub(b), EXACT);
        assertValues(new double[] {1, 2, -1, 0}, shape(2, 2), b.sub(a), EXACT);
        assertValues(new double[] {0.5, 0.5, 1.5, 1}, shape(2, 2), a.div(b), EXACT);
        assertValues(new double[] {2, 2, 2 / 3.0, 1}, shape(2, 2), b.div(a), EXACT);
    }

    @Test
    void scalarTensorOnEitherSide() {
        Tensor a = t(shape(3), 1, 2, 4);
        Tensor s = Tensor.scalar(2);
        assertValues(new double[] {-1, 0, 2}, shape(3), a.sub(s), EXACT);
        assertValues(new double[] {2, 1, 0.5}, shape(3), s.div(a), EXACT);
        assertValues(new double[] {2, 4, 8}, shape(3), s.mul(a), EXACT);
    }

    @Test
    void mulBroadcastsBothOperands() {
        // [2,1,4] * [3,1] -> [2,3,4]: out[i][j][l] = a[i][0][l] * b[j][0]
        Tensor a = Rand.uniform(1, 2, 1, 4);
        Tensor b = Rand.uniform(2, 3, 1);
        double[] av = OpAssert.doubles(a);
        double[] bv = OpAssert.doubles(b);
        double[] expected = new double[2 * 3 * 4];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int l = 0; l < 4; l++) {
                    expected[(i * 3 + j) * 4 + l] = av[i * 4 + l] * bv[j];
                }
            }
        }
        assertValues(expected, shape(2, 3, 4), a.mul(b), EXACT);
        assertValues(expected, shape(2, 3, 4), b.mul(a), EXACT);
    }

    private static final int[][][] BROADCAST_SHAPES = {
        {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{3}, {2, 3}}, {{2, 1, 4}, {3, 1}}, {{3, 1}, {2, 1, 4}},
        {{2, 3}, {}}, {{}, {2, 3}}, {{2, 3}, {2, 1}}};
    /** Forward only: large enough for the elementwise loops to split over threads. */
    private static final int[][][] LARGE_SHAPES = {{{100, 200}, {100, 200}}, {{100, 200}, {200}}};

    private static Stream<Arguments> cases(int[][][] shapes) {
        return Stream.of(Op.values()).flatMap(op -> Stream.of(shapes).map(s -> Arguments.of(op, s[0], s[1])));
    }

    static Stream<Arguments> broadcastCases() {
        return cases(BROADCAST_SHAPES);
    }

    static Stream<Arguments> forwardCases() {
        return Stream.concat(cases(BROADCAST_SHAPES), cases(LARGE_SHAPES));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("forwardCases")
    void forwardMatchesBroadcastReference(Op op, int[] sa, int[] sb) {
        Tensor a = Rand.uniform(3, sa);
        Tensor b = Rand.uniform(4, 0.5, 1.5, sb);
        int[] out = sdj.tensor.Shape.broadcast(sa, sb);
        double[] x = broadcastTo(OpAssert.doubles(a), sa, out);
        double[] z = broadcastTo(OpAssert.doubles(b), sb, out);
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = op.ref.applyAsDouble(x[i], z[i]);
        }
        assertValues(expected, out, op.op.apply(a, b), EXACT);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("broadcastCases")
    void gradientsReduceToEachOperandShape(Op op, int[] sa, int[] sb) {
        Tensor a = Rand.param(5, sa);
        Tensor b = Rand.uniform(6, 0.5, 1.5, sb).requiresGrad(true); // away from 0 for div
        GradCheck.check(in -> op.op.apply(in[0], in[1]), a, b);
    }

    @Test
    void gradientFlowsWhenOnlyOneSideRequiresGrad() {
        Tensor a = Rand.param(7, 2, 3);
        Tensor b = Rand.uniform(8, 0.5, 1.5, 3);
        GradCheck.check(in -> in[0].div(in[1]), a, b);
        GradCheck.check(in -> in[1].div(in[0]), Rand.uniform(9, 0.5, 1.5, 2, 3).requiresGrad(true), b);
    }

    /** Naive NumPy broadcasting: out element at multi-index i reads src at i with size-1 dims pinned to 0. */
    private static double[] broadcastTo(double[] src, int[] srcShape, int[] outShape) {
        int n = (int) sdj.tensor.Shape.numel(outShape);
        double[] out = new double[n];
        int lead = outShape.length - srcShape.length;
        for (int flat = 0; flat < n; flat++) {
            int rem = flat;
            int srcIndex = 0;
            int srcStride = 1;
            for (int d = outShape.length - 1; d >= lead; d--) {
                int idx = rem % outShape[d];
                rem /= outShape[d];
                int sd = srcShape[d - lead];
                srcIndex += (sd == 1 ? 0 : idx) * srcStride;
                srcStride *= sd;
            }
            out[flat] = src[srcIndex];
        }
        return out;
    }
}
