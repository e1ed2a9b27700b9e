package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.ops.Softmax;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/** Row softmax forward/backward and the sum reductions. */
class CudaSoftmaxReduceTest {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void softmaxRowsOfCrossAttentionScores(DType dtype) {
        CudaOps ops = opsOrSkip();
        int rows = 8 * 1024;
        int cols = 77;
        float scale = 0.125f;
        float[] x = rounded(random(31, rows * cols, 20f), dtype);
        float[] dy = rounded(random(32, rows * cols, 1f), dtype);
        float[] y = new float[x.length];
        float[] dx = new float[x.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, scale * x[r * cols + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(scale * x[r * cols + c] - max);
            }
            double dot = 0;
            for (int c = 0; c < cols; c++) {
                y[r * cols + c] = (float) (Math.exp(scale * x[r * cols + c] - max) / sum);
                dot += y[r * cols + c] * dy[r * cols + c];
            }
            for (int c = 0; c < cols; c++) {
                dx[r * cols + c] = (float) (scale * y[r * cols + c] * (dy[r * cols + c] - dot));
            }
        }
        float[] yRounded = rounded(y, dtype); // backward consumes the stored (rounded) forward output
        try (CudaTensor dX = upload(ops, x, dtype, rows, cols); CudaTensor out = ops.softmax(dX, scale);
             CudaTensor dY = upload(ops, dy, dtype, rows, cols)) {
            assertClose(y, out.toFloatArray(), dtype, "softmax");
            try (CudaTensor yDev = upload(ops, yRounded, dtype, rows, cols);
                 CudaTensor grad = ops.softmaxBackward(yDev, dY, scale)) {
                assertClose(dx, grad.toFloatArray(), dtype, "softmax backward");
            }
        }
    }

    /** Rows fully -inf (a fully masked row: zeros on the CPU, not 0/0), partly -inf, and plain. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void softmaxOfMaskedRowsMatchesTheCpu(DType dtype) {
        CudaOps ops = opsOrSkip();
        int rows = 6;
        int cols = 300; // more than one pass of the block's 256 threads
        float[] x = rounded(random(34, rows * cols, 4f), dtype);
        float[] dy = rounded(random(35, rows * cols, 1f), dtype);
        for (int c = 0; c < cols; c++) {
            x[c] = Float.NEGATIVE_INFINITY;                  // row 0: all masked
            x[3 * cols + c] = Float.NEGATIVE_INFINITY;       // row 3: all masked
            if (c % 3 != 0) {
                x[cols + c] = Float.NEGATIVE_INFINITY;       // row 1: two thirds masked
            }
        }
        Tensor xt = Tensor.of(x.clone(), rows, cols).requiresGrad(true);
        Tensor y = Softmax.softmax(xt);
        y.backward(Tensor.of(dy.clone(), rows, cols));
        try (CudaTensor dX = upload(ops, x, dtype, rows, cols); CudaTensor out = ops.softmax(dX, 1f);
             CudaTensor dY = upload(ops, dy, dtype, rows, cols);
             CudaTensor grad = ops.softmaxBackward(out, dY, 1f)) {
            assertClose(y.toFloatArray(), out.toFloatArray(), dtype, "masked softmax");
            assertClose(xt.grad().toFloatArray(), grad.toFloatArray(), dtype, "masked softmax backward");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void sumsOverEachAxisGroup(DType dtype) {
        CudaOps ops = opsOrSkip();
        int n = 2;
        int c = 320;
        int hw = 256;
        float[] x = rounded(random(33, n * c * hw, 1f), dtype);
        double total = 0;
        float[] lastDim = new float[n * c];
        float[] toLast = new float[hw];
        float[] perChannel = new float[c];
        for (int i = 0; i < x.length; i++) {
            total += x[i];
            lastDim[i / hw] += x[i];
            toLast[i % hw] += x[i];
            perChannel[(i / hw) % c] += x[i];
        }
        // Sums are fp32 on the device whatever the input dtype, so fp32 tolerance applies.
        try (CudaTensor dX = upload(ops, x, dtype, n, c, hw); CudaTensor s = KernelCalls.sum(dX);
             CudaTensor s1 = KernelCalls.sumLastDim(dX); CudaTensor s2 = KernelCalls.sumToLastDim(dX); CudaTensor s3 = KernelCalls.sumPerChannel(dX)) {
            assertClose(new float[] {(float) total}, s.toFloatArray(), 1e-3f, "sum all " + dtype);
            assertClose(lastDim, s1.toFloatArray(), DType.F32, "sum last dim " + dtype);
            assertClose(toLast, s2.toFloatArray(), DType.F32, "sum to last dim " + dtype);
            assertClose(perChannel, s3.toFloatArray(), DType.F32, "sum per channel " + dtype);
        }
    }
}
