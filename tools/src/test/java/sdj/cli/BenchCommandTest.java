package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `sdj bench txt2img`: the seconds-per-image line and the rates derived from it. */
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
    }

    /** printed = count / t, rounded by at most {@code printRounding}, for some t within 0.0005 s of {@code seconds}. */
    private static void assertRate(int count, double seconds, double printed, double printRounding, String what) {
        double lo = count / (seconds + 0.0005) - printRounding;
        double hi = count / (seconds - 0.0005) + printRounding;
        assertTrue(printed >= lo && printed <= hi, what + " " + printed + " not in [" + lo + ", " + hi + "]");
    }
}
