package sdj.train.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** LU with partial pivoting: known solutions, the inverse, the 1-norm condition number, a singular matrix. */
class LinearSolveTest {
    @Test
    void solvesForAKnownSolution() {
        Random random = new Random(5);
        int n = 40;
        int cols = 3;
        double[] a = new double[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextGaussian();
        }
        double[] x = new double[n * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextGaussian();
        }
        double[] b = new double[n * cols];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                for (int j = 0; j < cols; j++) {
                    b[i * cols + j] += a[i * n + k] * x[k * cols + j];
                }
            }
        }
        double[] got = LinearSolve.factor(a, n, "A").solve(b, cols);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], got[i], 1e-10, "x[" + i + "]");
        }
    }

    @Test
    void needsPivotingForAZeroLeadingElement() {
        double[] a = {0, 2, 3, 1}; // [[0,2],[3,1]]: no LU without a row swap
        double[] x = LinearSolve.factor(a, 2, "A").solve(new double[] {4, 5}, 1);
        assertEquals(1, x[0], 1e-15); // 3·1 + 1·2 = 5
        assertEquals(2, x[1], 1e-15); // 2·2 = 4
    }

    @Test
    void invertsAndMeasuresTheConditionNumber() {
        double[] a = {4, 7, 2, 6}; // inverse = [[0.6,-0.7],[-0.2,0.4]]
        LinearSolve lu = LinearSolve.factor(a, 2, "A");
        double[] inv = lu.inverse();
        double[] expected = {0.6, -0.7, -0.2, 0.4};
        for (int i = 0; i < 4; i++) {
            assertEquals(expected[i], inv[i], 1e-15);
        }
        // ‖A‖₁ = max(6, 13) = 13, ‖A⁻¹‖₁ = max(0.8, 1.1) = 1.1
        assertEquals(14.3, lu.conditionNumber1(), 1e-12);
        assertEquals(1e6, LinearSolve.factor(new double[] {1, 0, 0, 1e-6}, 2, "D").conditionNumber1(), 1e-6);
    }

    @Test
    void singularMatrixIsAnErrorNamingIt() {
        ArithmeticException e = assertThrows(ArithmeticException.class,
                () -> LinearSolve.factor(new double[] {1, 2, 2, 4}, 2, "C_regᵀC_reg"));
        assertTrue(e.getMessage().startsWith("C_regᵀC_reg is singular"), e.getMessage());
    }
}
