package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import sdj.io.Json;
import sdj.io.StateDicts;
import sdj.tensor.Tensor;

/**
 * `sdj bench train` on sd-tiny: the printed rates agree with the printed seconds, and each method trains
 * the tensors the reference files say it should (counted from the checkpoint's keys and from the
 * kohya module list of ../shared/testdata/sd-tiny-train, not from the bench's own rules).
 */
class BenchTrainCommandTest {
    private static final String TINY = "../models/sd-tiny.json";
    private static final String UNET = "model.diffusion_model.";

    private static final Pattern RESULT = Pattern.compile("(\\d+\\.\\d{2}) s per optimizer step \\(best of 1 after 1"
            + " warm-up step; forward, loss, backward, clip to norm 1, (adamw|adamw8bit)\\), (\\d+\\.\\d) GFLOP per step \\(3"
            + " forwards of (\\d+) samples?\\), (\\d+\\.\\d) GFLOP/s = \\d+\\.\\d% of fp32 peak, (\\d+) trainable tensors ="
            + " (\\d+) parameters, peak heap (\\d+\\.\\d{2}) GiB, (\\d+\\.\\d{2}) GiB allocated per step; timed steps"
            + " (\\d+\\.\\d{2}) s\\R");

    /** The printed numbers of one run. */
    private record Printed(String header, double seconds, String optimizer, String gflop, int samples, double rate,
            int tensors, long parameters, double peakGib, double allocatedGib) {
    }

    @Test
    void dreamboothTrainsTheWholeUNetOnInstanceAndClassSamples() throws Exception {
        Map<String, Tensor> ckpt = StateDicts.load(ReferencePrompts.shared("testdata/sd-tiny/model.ckpt"));
        List<String> unet = ckpt.keySet().stream().filter(k -> k.startsWith(UNET)).toList();
        Printed p = bench("--method", "dreambooth", "--batch", "2");
        assertTrue(p.header().contains("latent 16x16, batch 2 = 2 instance + 2 class samples (prior preservation), "),
                p.header());
        assertEquals(4, p.samples());
        assertEquals(String.format(Locale.ROOT, "%.1f", flops(4) / 1e9), p.gflop());
        assertRateMatches(p, flops(4));
        assertEquals("adamw", p.optimizer());
        assertEquals(unet.size(), p.tensors());
        assertEquals(unet.stream().mapToLong(k -> ckpt.get(k).numel()).sum(), p.parameters());
        // weights, gradients and the two fp32 AdamW moments are all on the heap at the peak
        assertTrue(p.peakGib() * (1L << 30) > 4.0 * 4 * p.parameters(), p.peakGib() + " GiB peak");
        assertTrue(p.allocatedGib() > 0, "a step allocates its activations");
    }

    @Test
    void customDiffusionTrainsTheCrossAttentionKeysAndValues() throws Exception {
        Map<String, Tensor> ckpt = StateDicts.load(ReferencePrompts.shared("testdata/sd-tiny/model.ckpt"));
        List<String> kv = ckpt.keySet().stream().filter(k -> k.startsWith(UNET) && k.contains("transformer_blocks")
                && (k.contains("attn2.to_k") || k.contains("attn2.to_v"))).toList();
        assertEquals(32, kv.size(), "sd-tiny has 16 transformer blocks, each with attn2.to_k and to_v weights");
        Printed p = bench("--method", "cd", "--gradient-checkpointing");
        assertTrue(p.header().contains("latent 16x16, batch 1 = 1 sample, ") && p.header().contains("gradient checkpointing on"),
                p.header());
        assertEquals(1, p.samples());
        assertRateMatches(p, flops(1));
        assertEquals(kv.size(), p.tensors());
        assertEquals(kv.stream().mapToLong(k -> ckpt.get(k).numel()).sum(), p.parameters());
    }

    @Test
    void loraTrainsTheAdaptersOfKohyasDefaultUNetModules() throws Exception {
        Map<String, Object> modules = Json.parseObject(Files.readString(
                ReferencePrompts.shared("testdata/sd-tiny-train/lora_modules.json")));
        long unetModules = 0;
        long elements = 0;
        for (Map.Entry<String, Object> e : modules.entrySet()) {
            if (e.getKey().startsWith("lora_unet_")) {
                Map<?, ?> m = (Map<?, ?>) e.getValue();
                unetModules++;
                elements += product(m.get("lora_down_shape")) + product(m.get("lora_up_shape")); // rank 4 in this file
            }
        }
        assertEquals(192, unetModules, "kohya adapts 12 modules in each of sd-tiny's 16 transformer blocks");
        Printed p = bench("--method", "lora", "--optimizer", "adamw8bit");
        assertEquals("adamw8bit", p.optimizer());
        assertRateMatches(p, flops(1));
        assertEquals(2 * unetModules, p.tensors(), "lora_down and lora_up of every module");
        assertEquals(elements, p.parameters());
    }

    @Test
    void refusesCudaAndUnknownMethods() {
        CliRun cuda = CliRun.sdj("bench", "train", "--config", TINY, "--latent", "16", "--device", "cuda");
        assertEquals(1, cuda.status());
        assertTrue(cuda.err().contains("'sdj bench train' runs on the cpu only so far; leave out --device cuda"), cuda.err());
        CliRun method = CliRun.sdj("bench", "train", "--config", TINY, "--latent", "16", "--method", "textual-inversion");
        assertEquals(1, method.status());
        assertTrue(method.err().contains("unknown training method 'textual-inversion': use dreambooth, cd or lora"),
                method.err());
    }

    private static Printed bench(String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("bench", "train", "--config", TINY, "--latent", "16"));
        args.addAll(List.of(extra));
        CliRun run = CliRun.sdj(args.toArray(String[]::new));
        assertEquals(0, run.status(), run.err());
        String[] lines = run.out().split("\\R");
        Matcher m = RESULT.matcher(run.out());
        assertTrue(lines.length >= 2 && lines[0].startsWith("train ") && m.find(), run.out());
        assertEquals(m.group(1), m.group(10), "one timed step: it is the best one");
        return new Printed(lines[0], Double.parseDouble(m.group(1)), m.group(2), m.group(3), Integer.parseInt(m.group(4)),
                Double.parseDouble(m.group(5)), Integer.parseInt(m.group(6)), Long.parseLong(m.group(7)),
                Double.parseDouble(m.group(8)), Double.parseDouble(m.group(9)));
    }

    /** 3 × sd-tiny's counted UNet forward at 16×16 for {@code samples} samples. */
    private static double flops(int samples) throws Exception {
        return 3 * sdj.bench.UNetFlops.count(sdj.sd.ModelConfigFiles.read(Path.of(TINY)).unet(), 16, samples);
    }

    /** The rate comes from the unrounded time: seconds printed to 0.005 s, the rate to 0.05 GFLOP/s. */
    private static void assertRateMatches(Printed p, double flopsPerStep) {
        double lo = flopsPerStep / 1e9 / (p.seconds() + 0.005) - 0.05;
        double hi = p.seconds() > 0.005 ? flopsPerStep / 1e9 / (p.seconds() - 0.005) + 0.05 : Double.MAX_VALUE;
        assertTrue(p.rate() >= lo && p.rate() <= hi, "GFLOP/s " + p.rate() + " not in [" + lo + ", " + hi + "]");
    }

    private static long product(Object shape) {
        long n = 1;
        for (Object d : (List<?>) shape) {
            n *= ((Number) d).longValue();
        }
        return n;
    }
}
