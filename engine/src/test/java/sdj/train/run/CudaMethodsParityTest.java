package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.backend.cuda.Cuda;
import sdj.io.Json;
import sdj.io.TestData;
import sdj.nn.AdapterRule;
import sdj.io.SafeTensors;
import sdj.nn.Parameter;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.cd.CustomDiffusionConfig;
import sdj.train.cd.FreezeModel;
import sdj.train.lora.LoraTargets;

/**
 * One LoRA step (UNet and text-encoder adapters) and one Custom Diffusion step (attn2 k/v and the added token row)
 * of sd-tiny at 64² (one instance image, 8×8 latents) in fp32 on cuda (the GPU or its host emulator) against the
 * same step on the cpu: the same seed draws the same noise, timesteps and adapter initialisation on the host, so
 * the loss agrees to 1e-5 relative (measured: equal for LoRA, 1e-7 for Custom Diffusion).
 *
 * <p>Weights: with AdamW's usual ε = 1e-8 the first step is lr·g/(|g|+ε), ±lr whatever the gradient's size, so it
 * hides the gradient and flips with the sign of a round-off-sized one. The test runs lr 1 and ε 1 instead, where
 * the step is g/(|g|+1) ≈ g: smooth in the gradient, so comparing the steps compares the gradients. Each tensor's
 * step may differ by 1e-4 of its largest step (measured: 1.1e-5 LoRA, 5.9e-6 Custom Diffusion; the cuda kernels sum
 * in other orders than the cpu's). A tensor whose gradient is round-off only is measured against 1e-3 of the run's
 * largest step instead: attn1's q/k adapters in the 1×1 middle block, where softmax over one token makes the
 * exact gradient 0.
 */
class CudaMethodsParityTest {
    private static final String TOKENIZER = "../models/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final double LR = 1.0;
    private static final double EPSILON = 1.0;
    private static final double STEP_TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    @Test
    void aLoraStepOnCudaIsTheCpuStep() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Path instances = instances();
        Trainer cpu = LoraTraining.open(lora(instances, "cpu"), Device.CPU, ClassImages.Listener.NONE);
        Trainer cuda = LoraTraining.open(lora(instances, "cuda"), Device.CUDA, ClassImages.Listener.NONE);
        assertEquals(Device.CUDA, cuda.model().device());
        Map<String, float[]> before = host(cpu.trainedWeights());
        assertEquals(before.keySet(), host(cuda.trainedWeights()).keySet());
        assertSameStep(cpu, cuda, before, "lora");
    }

    @Test
    void aCustomDiffusionStepOnCudaIsTheCpuStep() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Path instances = instances();
        Trainer cpu = CustomDiffusionMethod.trainer(customDiffusion(instances, "cpu"), Device.CPU,
                ClassImages.Listener.NONE);
        Trainer cuda = CustomDiffusionMethod.trainer(customDiffusion(instances, "cuda"), Device.CUDA,
                ClassImages.Listener.NONE);
        Map<String, float[]> before = host(cpu.trainedWeights());
        Tensor rows = cuda.trainedWeights().get("cond_stage_model.transformer.text_model.embeddings.token_embedding"
                + ".added_rows");
        assertEquals(Device.CUDA, rows.device(), "the added token rows are made on the model's device");
        assertSameStep(cpu, cuda, before, "cd");
    }

    /**
     * LoRA in fp16 on cuda: the model and the adapters are fp16; the adapters train through fp32 masters on the
     * device that start at the fp32 run's exact values, and the kohya file holds them; the first step's loss is the
     * fp32 cpu step's within fp16's reach (2e-3 relative, four fp16 ulps; measured 1.4e-4 LoRA, 2.4e-4 Custom
     * Diffusion).
     */
    @Test
    void aLoraStepInFp16TrainsFp32Masters() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Path instances = instances();
        LoraConfig fp32 = lora(instances, "cpu");
        LoraConfig fp16 = lora(instances, "fp16");
        fp16 = fp16.withTrain(fp16.train().with(Map.of("mixedPrecision", "fp16")));
        Trainer cpu = LoraTraining.open(fp32, Device.CPU, ClassImages.Listener.NONE);
        Trainer half = LoraTraining.open(fp16, Device.CUDA, ClassImages.Listener.NONE);
        assertEquals(DType.F16, half.model().dtype());
        assertMastersTrain(cpu, half, "lora");
        Path file = dir.resolve("lora-fp16/last.safetensors");
        half.saveModel(file);
        Map<String, Tensor> saved = SafeTensors.open(file).tensors();
        long offGrid = saved.entrySet().stream().filter(e -> e.getKey().endsWith(".lora_up.weight"))
                .mapToLong(e -> offFp16Grid(e.getValue().toFloatArray())).sum();
        assertTrue(offGrid > 0, "the file holds the fp32 masters, not the fp16 tensors");
    }

    /** Custom Diffusion in fp16: as LoRA, and the added token row's master starts at the checkpoint's exact row. */
    @Test
    void aCustomDiffusionStepInFp16TrainsFp32Masters() throws IOException {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        Path instances = instances();
        CustomDiffusionConfig fp32 = customDiffusion(instances, "cpu");
        CustomDiffusionConfig c = customDiffusion(instances, "fp16");
        CustomDiffusionConfig fp16 = new CustomDiffusionConfig(c.train().with(Map.of("mixedPrecision", "fp16")),
                c.concepts(), c.modifierTokens(), c.initializerTokens(), c.freezeModel(), c.augment(), c.saveFormat());
        Trainer cpu = CustomDiffusionMethod.trainer(fp32, Device.CPU, ClassImages.Listener.NONE);
        Trainer half = CustomDiffusionMethod.trainer(fp16, Device.CUDA, ClassImages.Listener.NONE);
        assertEquals(DType.F16, half.model().dtype());
        Parameter rows = half.model().clip().addedTokenRows();
        assertArrayEquals(host(cpu.trainedWeights()).get(rows.name()),
                rows.master().to(Device.CPU, DType.F32).toFloatArray(), 0f, "the row's master is the exact fp32 row");
        assertMastersTrain(cpu, half, "cd");
    }

    private void assertMastersTrain(Trainer cpu, Trainer half, String out) throws IOException {
        Map<String, Parameter> params = new LinkedHashMap<>();
        half.model().store().handles().values().stream().filter(Parameter::trainable)
                .forEach(p -> params.put(p.name(), p));
        Parameter rows = half.model().clip().addedTokenRows();
        if (rows != null) {
            params.put(rows.name(), rows);
        }
        assertEquals(cpu.trainedWeights().keySet(), params.keySet());
        Map<String, float[]> before = new LinkedHashMap<>();
        params.forEach((name, p) -> before.put(name, p.master().to(Device.CPU, DType.F32).toFloatArray()));
        Map<String, float[]> exact = host(cpu.trainedWeights());
        before.forEach((name, master) -> assertArrayEquals(exact.get(name), master, 0f,
                name + ": the master starts at the fp32 run's exact value, not the fp16-rounded one"));
        assertEquals(1, cpu.train());
        assertEquals(1, half.train());
        double cpuLoss = loss(dir.resolve(out + "-cpu"));
        double halfLoss = loss(dir.resolve(out + "-fp16"));
        System.out.printf("%s step fp32 cpu vs fp16 cuda: loss %.9g vs %.9g%n", out, cpuLoss, halfLoss);
        assertEquals(cpuLoss, halfLoss, 2e-3 * Math.abs(cpuLoss), "loss");
        int offGrid = 0;
        int moved = 0;
        for (Parameter p : params.values()) {
            assertEquals(DType.F16, p.tensor().dtype(), p.name());
            assertEquals(DType.F32, p.master().dtype(), p.name());
            assertEquals(Device.CUDA, p.master().device(), p.name());
            float[] master = p.master().to(Device.CPU, DType.F32).toFloatArray();
            float[] start = before.get(p.name());
            offGrid += offFp16Grid(master);
            for (int i = 0; i < master.length; i++) {
                moved += master[i] != start[i] ? 1 : 0;
            }
        }
        assertTrue(moved > 0, "the step moved the masters");
        assertTrue(offGrid > 0, "the masters hold fp32 values, not fp16 ones");
    }

    private void assertSameStep(Trainer cpu, Trainer cuda, Map<String, float[]> before, String out) throws IOException {
        assertEquals(1, cpu.train());
        assertEquals(1, cuda.train());
        double cpuLoss = loss(dir.resolve(out + "-cpu"));
        double cudaLoss = loss(dir.resolve(out + "-cuda"));
        assertEquals(cpuLoss, cudaLoss, 1e-5 * Math.abs(cpuLoss), "loss");
        Map<String, float[]> a = host(cpu.trainedWeights());
        Map<String, float[]> b = host(cuda.trainedWeights());
        Map<String, Double> largest = new LinkedHashMap<>();
        a.forEach((name, x) -> largest.put(name, maxAbsDifference(x, before.get(name))));
        double runLargest = largest.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        assertTrue(runLargest > 0, "the step moved the weights");
        double worst = 0;
        String worstName = null;
        for (String name : a.keySet()) {
            // a tensor whose gradient is round-off only is measured against a thousandth of the run's largest step
            double scale = Math.max(largest.get(name), 1e-3 * runLargest);
            double off = maxAbsDifference(b.get(name), a.get(name)) / scale;
            if (off > worst) {
                worst = off;
                worstName = name;
            }
        }
        System.out.printf("%s step cpu vs cuda: loss %.9g vs %.9g, worst step difference %.3g of the tensor's largest"
                + " step (%s)%n", out, cpuLoss, cudaLoss, worst, worstName);
        assertTrue(worst <= STEP_TOLERANCE, "worst step difference " + worst + " in " + worstName);
    }

    private static int offFp16Grid(float[] v) {
        int n = 0;
        for (float x : v) {
            n += x != Float.float16ToFloat(Float.floatToFloat16(x)) ? 1 : 0;
        }
        return n;
    }

    private static double maxAbsDifference(float[] x, float[] y) {
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs((double) x[i] - y[i]));
        }
        return max;
    }

    private Path instances() throws IOException {
        Path instances = Files.createDirectories(dir.resolve("instances"));
        Files.copy(TestData.shared().resolve("testdata/sd-tiny-train/instance_0.png"), instances.resolve("a.png"));
        return instances;
    }

    private Map<String, Object> common(Path instances, String out) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pretrainedModelNameOrPath", TestData.sdTiny("model.ckpt").toString());
        m.put("modelConfig", "../models/sd-tiny.json");
        m.put("tokenizerName", TOKENIZER);
        m.put("instanceDataDir", instances.toString());
        m.put("resolution", 64);
        m.put("centerCrop", true);
        m.put("trainBatchSize", 1);
        m.put("maxTrainSteps", 1);
        m.put("checkpointingSteps", 100);
        m.put("learningRate", LR);
        m.put("adamEpsilon", EPSILON);
        m.put("seed", 1234L);
        m.put("outputDir", dir.resolve(out).toString());
        return m;
    }

    private LoraConfig lora(Path instances, String device) {
        Map<String, Object> m = common(instances, "lora-" + device);
        m.put("instancePrompt", "a photo of sks dog");
        m.put("trainTextEncoder", true);
        return new LoraConfig(TrainConfig.defaults().with(m), 4, 2f, 0f, LoraTargets.KOHYA, LR, LR,
                AdapterRule.DownInit.KAIMING_UNIFORM, "kohya");
    }

    private CustomDiffusionConfig customDiffusion(Path instances, String device) {
        Map<String, Object> m = common(instances, "cd-" + device);
        m.put("instancePrompt", "photo of a <new1> cat");
        m.put("scaleLr", false);
        TrainConfig train = CustomDiffusionConfig.defaults().with(m);
        return new CustomDiffusionConfig(train, List.of(CustomDiffusionConfig.singleConcept(train)), List.of("<new1>"),
                List.of("ktn"), FreezeModel.CROSSATTN_KV, true, "compvis");
    }

    private static double loss(Path out) throws IOException {
        String first = Files.readAllLines(out.resolve("log.jsonl"), StandardCharsets.UTF_8).get(0);
        return ((Number) Json.parseObject(first).get("loss")).doubleValue();
    }

    private static Map<String, float[]> host(Map<String, Tensor> weights) {
        Map<String, float[]> out = new LinkedHashMap<>();
        weights.forEach((k, t) -> out.put(k, t.to(Device.CPU, DType.F32).toFloatArray()));
        return out;
    }
}
