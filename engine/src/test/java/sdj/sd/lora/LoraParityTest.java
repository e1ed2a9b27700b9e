package sdj.sd.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The reference's kohya file (sd-tiny-train §D) merged at 0.7 into UNet and text encoder reproduces
 * {@code lora.eps.merged} within the forward tolerance and differs from {@code lora.eps.base}; merged
 * into the state dict or into a built model (CPU fp32, and CUDA fp16 where there is a GPU or the emulator).
 */
class LoraParityTest {
    private static Map<String, Tensor> checkpoint;
    private static Map<String, Tensor> reference;
    private static ModelConfigs configs;
    private static Path train;

    @BeforeAll
    static void load() throws Exception {
        checkpoint = StateDicts.load(TestData.sdTiny("model.ckpt"));
        train = TestData.shared().resolve("testdata/sd-tiny-train");
        reference = SafeTensors.open(train.resolve("train-reference.safetensors")).tensors();
        configs = ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).detectFrom(checkpoint);
    }

    private static Tensor eps(Map<String, Tensor> stateDict) {
        return eps(StableDiffusionModel.fromStateDict(stateDict, configs, "model.ckpt"));
    }

    private static Tensor eps(StableDiffusionModel model) {
        try (var g = Autograd.noGrad()) {
            Tensor context = model.clip().forward(reference.get("lora.ids"));
            long[] t = reference.get("in.t").toLongArray();
            Tensor x = reference.get("in.noisy").narrow(0, 0, 2).contiguous().to(model.device(), model.dtype());
            return model.unet().forward(x, new float[] {t[0], t[1]}, context).to(Device.CPU, DType.F32);
        }
    }

    @Test
    void kohyaFileMergedAtPointSevenMatchesTheReference() throws Exception {
        LoraFile file = LoraFile.read(train.resolve("lora_kohya.safetensors"));
        LoraMerge.Result r = new LoraMerge(DiffusersNames.of(configs)).apply(checkpoint, file, 0.7f);
        assertEquals(204, r.applied(), r.summary("lora_kohya", 0.7f));
        assertEquals(List.of(), r.unusedKeys());

        assertMatchesMerged(eps(r.stateDict()).toFloatArray());
    }

    @Test
    void theSameFileMergedIntoABuiltModelMatchesToo() throws Exception {
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(checkpoint, configs, "model.ckpt");
        List<String> lines = new java.util.ArrayList<>();
        LoraRequest.applyTo(model, List.of(new LoraRequest(train.resolve("lora_kohya.safetensors"), 0.7f)), lines::add);
        assertEquals(List.of("lora lora_kohya.safetensors (strength 0.7): applied 204 modules, every key used"), lines);
        assertMatchesMerged(eps(model).toFloatArray());
    }

    @Test
    void onCudaInHalfPrecisionTheMergedWeightsTakeTheModelsDtype() throws Exception {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(checkpoint, configs, "model.ckpt", Device.CUDA,
                DType.F16);
        String key = "model.diffusion_model.input_blocks.1.1.proj_in.weight";
        LoraRequest.applyTo(model, List.of(new LoraRequest(train.resolve("lora_kohya.safetensors"), 0.7f)), s -> { });
        Tensor w = model.parameters().get(key);
        assertEquals(Device.CUDA, w.device());
        assertEquals(DType.F16, w.dtype());
        // fp16 weights and activations: the CudaSdTinyParityTest tolerance for fp16 forwards, 1e-2 of the scale
        float[] ours = eps(model).toFloatArray();
        float[] expected = reference.get("lora.eps.merged").toFloatArray();
        float[] base = reference.get("lora.eps.base").toFloatArray();
        double maxRef = 0;
        double diff = 0;
        double fromBase = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(ours[i] - expected[i]));
            fromBase = Math.max(fromBase, Math.abs(ours[i] - base[i]));
        }
        assertTrue(diff <= 1e-2 * Math.max(1, maxRef), "max|a−b| = " + diff);
        assertTrue(fromBase > 2 * diff, "the merge shows above the fp16 error: " + fromBase + " vs " + diff);
    }

    private static void assertMatchesMerged(float[] merged) {
        float[] expected = reference.get("lora.eps.merged").toFloatArray();
        float[] base = reference.get("lora.eps.base").toFloatArray();
        double maxRef = 0;
        double diff = 0;
        double fromBase = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(merged[i] - expected[i]));
            fromBase = Math.max(fromBase, Math.abs(merged[i] - base[i]));
        }
        assertTrue(diff <= 1e-4 * Math.max(1, maxRef), "max|a−b| = " + diff);
        assertTrue(fromBase > 0.02 * maxRef, "the merge changes the output: " + fromBase);
    }

    @Test
    void withoutTheLoraTheBaseOutputIsReproduced() {
        float[] ours = eps(checkpoint).toFloatArray();
        float[] base = reference.get("lora.eps.base").toFloatArray();
        double diff = 0;
        double maxRef = 0;
        for (int i = 0; i < base.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(base[i]));
            diff = Math.max(diff, Math.abs(ours[i] - base[i]));
        }
        assertTrue(diff <= 1e-4 * Math.max(1, maxRef), "max|a−b| = " + diff);
    }
}
