package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `sdj bench txt2img` and `unet-train`: the printed lines and the rates derived from them. */
class BenchCommandTest {
    private static final Pattern LINE = Pattern.compile("txt2img 64x64, 4 ddim steps with CFG 7\\.5, random weights, cpu: "
            + "(\\d+\\.\\d{3}) s per image \\(best of 1\\), (\\d+\\.\\d{2}) steps/s, (\\d+\\.\\d{3}) images/s");

    @Test
    void txt2imgReportsSecondsPerImageAndTheRatesItImplies() {
        CliRun run = CliRun.sdj("bench", "txt2img", "--config", "../models/sd-tiny.json", "--vocab",
                "../models/clip/bpe_simple_vocab_16e6.txt.gz", "--steps", "4", "--W", "64", "--H", "64", "--runs", "1");
        assertEquals(0, run.status(), run.err());
        Matcher m = LINE.matcher(run.out());
        assertTrue(m.find(), run.out());
        // The rates come from the unrounded time; the printed seconds are within 0.0005 of it, and each
        // rate is printed to its last decimal.
        double seconds = Double.parseDouble(m.group(1));
        assertRate(4, seconds, Double.parseDouble(m.group(2)), 0.005, "steps/s");
        assertRate(1, seconds, Double.parseDouble(m.group(3)), 0.0005, "images/s");
        assertTrue(run.out().contains(sdj.bench.Txt2ImgBench.PEERS), run.out());
        assertStartAndMemory(run.out(), false);
    }

    private static final Pattern START = Pattern.compile("time to first step (\\d+\\.\\d{2}) s \\(load (\\d+\\.\\d{2}) s\\),"
            + " first step (\\d+\\.\\d{2}) s, peak resident memory (\\d+\\.\\d{2}) GiB; weights: (\\d+\\.\\d) MiB read in"
            + " place from the file, (\\d+\\.\\d) MiB on the heap");

    /**
     * The load is part of the time to the first step (counted from the process's start); the peak resident
     * set holds at least a JVM's heap in use; random weights are heap arrays, an fp32 checkpoint's are read
     * in place.
     */
    private static void assertStartAndMemory(String out, boolean fromFile) {
        Matcher m = START.matcher(out);
        assertTrue(m.find(), out);
        assertTrue(Double.parseDouble(m.group(1)) > Double.parseDouble(m.group(2)), m.group());
        assertTrue(Double.parseDouble(m.group(4)) >= 0.01, m.group()); // CliRun's JVM: well over 10 MiB resident
        // sd-tiny's weights (about 65 MiB) are all on one side
        assertEquals("0.0", fromFile ? m.group(6) : m.group(5), m.group());
        assertTrue(Double.parseDouble(fromFile ? m.group(5) : m.group(6)) > 1, m.group());
    }

    @Test
    void txt2imgWithACheckpointTimesItsLoad() {
        String ckpt = java.nio.file.Path.of(System.getProperty("sdj.shared", "../../shared"), "testdata", "sd-tiny",
                "model.ckpt").toString();
        CliRun run = CliRun.sdj("bench", "txt2img", "--config", "../models/sd-tiny.json", "--ckpt", ckpt, "--vocab",
                "../models/clip/bpe_simple_vocab_16e6.txt.gz", "--steps", "2", "--W", "64", "--H", "64", "--runs", "1");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("txt2img 64x64, 2 ddim steps with CFG 7.5, " + ckpt + ", cpu: "), run.out());
        assertStartAndMemory(run.out(), true);
    }

    private static final Pattern TRAIN = Pattern.compile("UNet training step \\(model_channels 32, context 64\\), random"
            + " weights all trainable, MSE loss, latent 16x16, batch 2, \\d+ threads, gradient checkpointing (on|off)\\R"
            + "(\\d+\\.\\d{2}) s per UNet training step \\(best of 1\\), (\\d+\\.\\d) GFLOP per step \\(forward \\+ backward"
            + " = 3 forwards\\), (\\d+\\.\\d) GFLOP/s = \\d+\\.\\d% of fp32 peak, tape after forward (\\d+\\.\\d) MiB, peak"
            + " heap (\\d+\\.\\d{2}) GiB, \\d+\\.\\d{2} GiB allocated per step\\R");

    @Test
    void unetTrainReportsStepTimeFlopRateAndAMuchSmallerTapeWithCheckpointing() throws Exception {
        double flopsPerStep = 3 * sdj.bench.UNetFlops.count(
                sdj.sd.ModelConfigFiles.read(java.nio.file.Path.of("../models/sd-tiny.json")).unet(), 16, 2);
        double[] tapeMib = new double[2];
        for (String checkpointing : new String[] {"off", "on"}) {
            CliRun run = checkpointing.equals("on")
                    ? CliRun.sdj("bench", "unet-train", "--config", "../models/sd-tiny.json", "--latent", "16", "--batch", "2",
                            "--gradient-checkpointing")
                    : CliRun.sdj("bench", "unet-train", "--config", "../models/sd-tiny.json", "--latent", "16", "--batch", "2");
            assertEquals(0, run.status(), run.err());
            Matcher m = TRAIN.matcher(run.out());
            assertTrue(m.find(), run.out());
            assertEquals(checkpointing, m.group(1));
            double seconds = Double.parseDouble(m.group(2));
            assertEquals(String.format(java.util.Locale.ROOT, "%.1f", flopsPerStep / 1e9), m.group(3));
            // the seconds are printed to 0.005 s, the rate (from the unrounded time) to 0.05 GFLOP/s
            double rate = Double.parseDouble(m.group(4));
            double lo = flopsPerStep / 1e9 / (seconds + 0.005) - 0.05;
            double hi = flopsPerStep / 1e9 / (seconds - 0.005) + 0.05;
            assertTrue(rate >= lo && rate <= hi, "GFLOP/s " + rate + " not in [" + lo + ", " + hi + "]");
            tapeMib[checkpointing.equals("on") ? 1 : 0] = Double.parseDouble(m.group(5));
            assertTrue(Double.parseDouble(m.group(6)) * 1024 > Double.parseDouble(m.group(5)), "the peak holds the tape");
        }
        // sd-tiny at 16x16, batch 2: about 42 MiB of activations without, 12 MiB with checkpointing
        assertTrue(tapeMib[1] > 0 && tapeMib[1] < tapeMib[0] / 2, tapeMib[1] + " MiB kept with, " + tapeMib[0] + " without");
    }

    @Test
    void unetTrainNamesALatentTheUNetCannotHalve() {
        CliRun run = CliRun.sdj("bench", "unet-train", "--config", "../models/sd-tiny.json", "--latent", "12");
        assertEquals(1, run.status());
        assertTrue(run.err().contains("--latent must be a positive multiple of 8 (the UNet halves it 3 times), got 12"),
                run.err());
    }

    /** printed = count / t, rounded by at most {@code printRounding}, for some t within 0.0005 s of {@code seconds}. */
    private static void assertRate(int count, double seconds, double printed, double printRounding, String what) {
        double lo = count / (seconds + 0.0005) - printRounding;
        double hi = count / (seconds - 0.0005) + printRounding;
        assertTrue(printed >= lo && printed <= hi, what + " " + printed + " not in [" + lo + ", " + hi + "]");
    }
}
