package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.AdapterRule;
import sdj.nn.LoraAdapter;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Adapter rules on the sd-tiny model: which layers a regex wraps (the expected names come from the
 * checkpoint's own keys), that every Linear and Conv2d — the UNet and VAE down/upsample convs
 * included — is registered under its LDM name, that new adapters leave the networks' outputs
 * unchanged, LoCon on the resampling convs through merge/unmerge, and copying versus moving a model.
 */
class ModelAdaptersTest {
    private static Map<String, Tensor> checkpoint;
    private static ModelConfigs configs;

    @BeforeAll
    static void load() throws Exception {
        checkpoint = StateDicts.load(TestData.sdTiny("model.ckpt"));
        configs = ModelConfigFiles.read(Path.of("../models/sd-tiny.json"));
    }

    private static StableDiffusionModel model(AdapterRule... rules) {
        return StableDiffusionModel.fromStateDict(checkpoint, configs, "model.ckpt", Device.CPU, DType.F32, List.of(rules));
    }

    /** Modules whose checkpoint weight key matches {@code weightKeyRegex}, without ".weight". */
    private static Set<String> checkpointModules(String weightKeyRegex) {
        Set<String> out = new TreeSet<>();
        for (String k : checkpoint.keySet()) {
            if (k.matches(weightKeyRegex)) {
                out.add(k.substring(0, k.length() - ".weight".length()));
            }
        }
        return out;
    }

    @Test
    void crossAttentionKeyValueRuleWrapsExactlyThoseLayers() throws Exception {
        StableDiffusionModel m = model(AdapterRule.lora("attn2\\.to_[kv]$", 4));
        Set<String> expected = checkpointModules("model\\.diffusion_model\\..*\\.attn2\\.to_[kv]\\.weight");
        assertEquals(32, expected.size(), "16 transformer blocks × to_k, to_v in sd-tiny as in SD v1");
        assertEquals(expected, new TreeSet<>(m.store().adapters().keySet()));

        long elements = 0;
        for (String module : expected) {
            int[] w = checkpoint.get(module + ".weight").shape(); // [C, context 64]
            assertArrayEquals(new int[] {4, w[1]}, m.store().handles().get(module + ".lora_down.weight").shape(), module);
            assertArrayEquals(new int[] {w[0], 4}, m.store().handles().get(module + ".lora_up.weight").shape(), module);
            assertArrayEquals(new int[0], m.store().handles().get(module + ".alpha").shape(), module);
            elements += 4L * w[1] + 4L * w[0];
        }
        assertEquals(new ParameterStore.TrainableCount(64, elements), m.store().setTrainable(LoraAdapter::isAdapterWeight));
        Map<String, Tensor> file = m.store().stateDict(n -> LoraAdapter.isAdapterWeight(n) || n.endsWith(".alpha"));
        assertEquals(96, file.size(), "down, up and alpha per adapted module");

        // fresh adapters (up = 0) change nothing, bit for bit
        Map<String, Tensor> ref = SafeTensors.open(TestData.sdTiny("reference.safetensors")).tensors();
        StableDiffusionModel plain = model();
        try (var g = Autograd.noGrad()) {
            Tensor x = ref.get("unet.x");
            float[] t = ref.get("unet.t").toFloatArray();
            Tensor ctx = ref.get("unet.context");
            assertArrayEquals(plain.unet().forward(x, t, ctx).toFloatArray(), m.unet().forward(x, t, ctx).toFloatArray());
        }
    }

    @Test
    void everyLinearAndConvIsALayerUnderItsCheckpointName() {
        StableDiffusionModel m = model();
        Set<String> used = m.parameters().keySet();
        Set<String> expected = new TreeSet<>();
        for (String k : used) {
            int rank = checkpoint.get(k).dim();
            if (k.endsWith(".weight") && (rank == 2 || rank == 4) && !k.contains("_embedding.")) {
                expected.add(k.substring(0, k.length() - ".weight".length()));
            }
        }
        assertEquals(expected, new TreeSet<>(m.store().layers().keySet()));
        for (String resampler : List.of("model.diffusion_model.input_blocks.3.0.op", "model.diffusion_model.input_blocks.9.0.op",
                "model.diffusion_model.output_blocks.2.1.conv", "model.diffusion_model.output_blocks.8.2.conv",
                "first_stage_model.encoder.down.0.downsample.conv", "first_stage_model.decoder.up.1.upsample.conv")) {
            assertTrue(m.store().layers().containsKey(resampler), resampler);
        }
    }

    /** The down/upsample convs of both networks, by their LDM names. */
    private static final List<String> RESAMPLERS = List.of(
            "model.diffusion_model.input_blocks.3.0.op", "model.diffusion_model.input_blocks.6.0.op",
            "model.diffusion_model.input_blocks.9.0.op", "model.diffusion_model.output_blocks.2.1.conv",
            "model.diffusion_model.output_blocks.5.2.conv", "model.diffusion_model.output_blocks.8.2.conv",
            "first_stage_model.encoder.down.0.downsample.conv", "first_stage_model.encoder.down.1.downsample.conv",
            "first_stage_model.encoder.down.2.downsample.conv", "first_stage_model.decoder.up.3.upsample.conv",
            "first_stage_model.decoder.up.2.upsample.conv", "first_stage_model.decoder.up.1.upsample.conv");

    @Test
    void loConOnTheResamplingConvsMergesAndUnmerges() {
        StableDiffusionModel m = model(AdapterRule.lora("(\\.op|sample\\.conv|output_blocks\\.\\d+\\.\\d+\\.conv)$", 2));
        assertEquals(RESAMPLERS, List.copyOf(m.store().adapters().keySet()));
        Tensor image = randomTensor(1, 1, 3, 32, 32);
        Tensor z = randomTensor(2, 1, 4, 4, 4);
        try (var g = Autograd.noGrad()) {
            float[] baseMoments = m.vae().encodeMoments(image).toFloatArray();
            float[] baseDecoded = m.vae().decode(z).toFloatArray();
            long seed = 3;
            for (LoraAdapter a : m.store().adapters().values()) {
                Parameter up = a.up();
                up.set(randomTensor(seed++, up.shape()).mul(0.1f));
            }
            float[] moments = m.vae().encodeMoments(image).toFloatArray();
            float[] decoded = m.vae().decode(z).toFloatArray();
            assertTrue(maxDiff(baseMoments, moments) > 1e-3, "the down-sample adapters change the encoding");
            assertTrue(maxDiff(baseDecoded, decoded) > 1e-3, "the up-sample adapters change the decoding");

            m.store().mergeAdapters();
            assertTrue(maxDiff(moments, m.vae().encodeMoments(image).toFloatArray()) <= 1e-4 * maxAbs(moments),
                    "merged (bottom/right padded stride-2 convs) = adapted");
            assertTrue(maxDiff(decoded, m.vae().decode(z).toFloatArray()) <= 1e-4 * maxAbs(decoded), "merged = adapted");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.to(Device.CPU, DType.F32));
            assertTrue(e.getMessage().contains("is merged; unmerge the adapters before copying"), e.getMessage());
            m.store().unmergeAdapters();
            assertArrayEquals(moments, m.vae().encodeMoments(image).toFloatArray(), "unmerged: the same adapted output");
        }
    }

    @Test
    void copyingGivesNewHandlesWhileMovingKeepsThem() {
        StableDiffusionModel m = StableDiffusionModel.random(configs, 5, Device.CPU, DType.F32,
                List.of(AdapterRule.lora("attn1\\.to_q$", 2)));
        m.store().setTrainable(LoraAdapter::isAdapterWeight);
        StableDiffusionModel copy = m.to(Device.CPU, DType.F32);
        assertEquals(m.store().adapters().keySet(), copy.store().adapters().keySet());
        assertEquals(m.store().trainableNames(), copy.store().trainableNames());
        String name = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn1.to_q.lora_down.weight";
        assertNotSame(m.store().handles().get(name), copy.store().handles().get(name));
        assertArrayEquals(m.store().handles().get(name).tensor().toFloatArray(),
                copy.store().handles().get(name).tensor().toFloatArray(), "the copy took the adapter from the source");

        assumeTrue(Cuda.available(), () -> "skipped the GPU part: CUDA unavailable: " + Cuda.unavailableReason());
        Parameter handle = m.store().handles().get(name);
        Tensor x = randomTensor(6, 1, 4, 8, 8);
        Tensor ctx = randomTensor(7, 1, 5, configs.unet().contextDim());
        float[] t = {500f};
        float[] onCpu;
        try (var g = Autograd.noGrad()) {
            onCpu = m.unet().forward(x, t, ctx).toFloatArray();
        }
        m.moveTo(Device.CUDA, DType.F32);
        assertSame(handle, m.store().handles().get(name));
        assertEquals(Device.CUDA, m.device());
        assertTrue(handle.tensor().isCuda() && handle.tensor().requiresGrad());
        try (var g = Autograd.noGrad()) {
            float[] onGpu = m.unetEps().eps(x, t, ctx).toFloatArray();
            assertTrue(maxDiff(onCpu, onGpu) <= 1e-3 * maxAbs(onCpu), "the moved UNet computes the same ε");
        }
    }

    private static Tensor randomTensor(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, shape);
    }

    private static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    private static double maxAbs(float[] a) {
        double m = 1e-12;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
