package sdj.backend.cuda;

import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.opsOrSkip;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;
import static sdj.backend.cuda.CudaTestSupport.upload;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.tensor.DType;

/** Embedding gather / scatter-add and nearest ×2 upsampling, forward and backward. */
class CudaEmbeddingUpsampleTest {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void embeddingOfTokenIdsWithRepeats(DType dtype) {
        CudaOps ops = opsOrSkip();
        int vocab = 1000;
        int dim = 768;
        int tokens = 2 * 77;
        float[] weight = rounded(random(41, vocab * dim, 1f), dtype);
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = i % 10 == 9 ? 999 : (i * 37) % vocab; // 999 repeats like a padding token
        }
        float[] dout = rounded(random(42, tokens * dim, 1f), dtype);
        float[] out = new float[tokens * dim];
        float[] dweight = new float[vocab * dim];
        for (int t = 0; t < tokens; t++) {
            for (int d = 0; d < dim; d++) {
                out[t * dim + d] = weight[ids[t] * dim + d];
                dweight[ids[t] * dim + d] += dout[t * dim + d];
            }
        }
        try (CudaTensor w = upload(ops, weight, dtype, vocab, dim);
             CudaTensor i = CudaTensor.uploadIds(ops.device(), ids, 2, 77);
             CudaTensor g = upload(ops, dout, dtype, 2, 77, dim); CudaTensor y = ops.embedding(w, i);
             CudaTensor dw = ops.embeddingBackward(g, i, vocab)) {
            assertClose(out, y.toFloatArray(), 0f, "embedding is an exact gather " + dtype);
            // each row summed in fp32 in token order, as the loop above: the same bits, run after run
            assertClose(dweight, dw.toFloatArray(), 0f, "embedding backward (fp32, token order) " + dtype);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void upsampleNearestTimesTwo(DType dtype) {
        CudaOps ops = opsOrSkip();
        int nc = 2 * 320;
        int h = 32;
        int w = 32;
        float[] x = rounded(random(43, nc * h * w, 1f), dtype);
        float[] dout = rounded(random(44, nc * 4 * h * w, 1f), dtype);
        float[] y = new float[nc * 4 * h * w];
        float[] dx = new float[x.length];
        for (int c = 0; c < nc; c++) {
            for (int yo = 0; yo < 2 * h; yo++) {
                for (int xo = 0; xo < 2 * w; xo++) {
                    int o = (c * 2 * h + yo) * 2 * w + xo;
                    int i = (c * h + yo / 2) * w + xo / 2;
                    y[o] = x[i];
                    dx[i] += dout[o];
                }
            }
        }
        try (CudaTensor dX = upload(ops, x, dtype, 2, 320, h, w); CudaTensor g = upload(ops, dout, dtype, 2, 320, 2 * h, 2 * w);
             CudaTensor out = ops.upsampleNearest(dX, 2); CudaTensor grad = ops.upsampleNearestBackward(g, 2)) {
            assertClose(y, out.toFloatArray(), 0f, "upsample is an exact copy " + dtype);
            assertClose(dx, grad.toFloatArray(), dtype, "upsample backward");
        }
    }
}
