package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.Parameter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/** Added token rows on CUDA (fp32; the emulator without a GPU): the CPU's context, a gradient only for them. */
class CudaClipAddedTokenRowsTest {
    @Test
    void addedRowsWorkOnCuda() throws Exception {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        var sd = StateDicts.load(TestData.sdTiny("model.ckpt"));
        var configs = ModelConfigFiles.read(Path.of("../models/sd-tiny.json"));
        StableDiffusionModel cpu = StableDiffusionModel.fromStateDict(sd, configs, "model.ckpt");
        StableDiffusionModel gpu = StableDiffusionModel.fromStateDict(sd, configs, "model.ckpt", Device.CUDA, DType.F32);
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        tok.addToken("<new1>");
        int[] row = tok.encode77("photo of a <new1> cat");
        long[] ids = new long[77];
        for (int i = 0; i < 77; i++) {
            ids[i] = row[i];
        }
        float[] table = cpu.clip().tokenEmbedding().toFloatArray();
        Tensor ktn = Tensor.of(java.util.Arrays.copyOfRange(table, 42170 * 64, 42171 * 64), 1, 64);
        cpu.clip().addTokenRows(ktn);
        Parameter added = gpu.clip().addTokenRows(ktn);
        assertEquals(Device.CUDA, added.tensor().device());
        added.trainable(true);
        float[] expected = cpu.clip().forward(Tensor.ofLongs(ids, 1, 77)).toFloatArray();
        Tensor context = gpu.clip().forward(Tensor.ofLongs(ids, 1, 77));
        float[] actual = context.to(Device.CPU, DType.F32).toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 2e-4f * Math.max(1f, Math.abs(expected[i])), "element " + i);
        }
        context.sum().backward();
        float[] g = added.tensor().grad().to(Device.CPU, DType.F32).toFloatArray();
        assertArrayEquals(new int[] {1, 64}, added.tensor().grad().shape());
        double norm = 0;
        for (float v : g) {
            norm += v * v;
        }
        assertTrue(norm > 0 && Double.isFinite(norm), "a gradient reached the added row on CUDA: " + norm);
    }
}
