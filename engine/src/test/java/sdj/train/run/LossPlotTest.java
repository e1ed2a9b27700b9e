package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loss curve of a known log: 100 steps at loss 1.0 then 0.2 from step 51. The plot area spans y from
 * the lowest loss minus 5% of the range (0.16) to the highest plus 5% (1.04), so loss 1.0 lies at
 * {@code 444 − 0.84/0.88·404 ≈ 58} and 0.2 at {@code 444 − 0.04/0.88·404 ≈ 426} (plot area rows 40…444).
 */
class LossPlotTest {
    @TempDir
    Path dir;

    private static final double Y_HIGH = 444 - 0.84 / 0.88 * 404;
    private static final double Y_LOW = 444 - 0.04 / 0.88 * 404;

    @Test
    void theSmoothedLineStaysHighThenFallsAfterTheStepChange() throws IOException {
        BufferedImage png = plotStepChange();
        assertEquals(800, png.getWidth());
        assertEquals(500, png.getHeight());
        assertEquals(Y_HIGH, rowOf(png, 10, LossPlot.SMOOTH), 2.0, "steps 1-50 at loss 1.0");
        assertEquals(Y_HIGH, rowOf(png, 45, LossPlot.SMOOTH), 2.0);
        // the moving average after k steps at 0.2: 0.2 + 0.8·0.9^k, so 0.2 + 0.8·0.9^10 ≈ 0.479 at step 60
        double at60 = 0.2 + 0.8 * Math.pow(0.9, 10);
        assertEquals(444 - (at60 - 0.16) / 0.88 * 404, rowOf(png, 60, LossPlot.SMOOTH), 3.0);
        double at99 = 0.2 + 0.8 * Math.pow(0.9, 49);
        assertEquals(444 - (at99 - 0.16) / 0.88 * 404, rowOf(png, 99, LossPlot.SMOOTH), 2.0, "settled near 0.2");
        double previous = 0;
        for (int step = 50; step <= 100; step += 5) {
            double y = rowOf(png, step, LossPlot.SMOOTH);
            assertTrue(y >= previous - 1, "the smoothed line falls (y grows) after step 50, at step " + step);
            previous = y;
        }
    }

    @Test
    void theRawLossJumpsAtTheStepChange() throws IOException {
        BufferedImage png = plotStepChange();
        assertEquals(Y_HIGH, rowOf(png, 30, LossPlot.RAW, 56), 2.0, "raw dots above and below the smoothed line");
        assertEquals(Y_LOW, rowOf(png, 70, LossPlot.RAW, (int) Y_LOW - 8), 2.0);
    }

    @Test
    void readKeepsNumericLossesAndNamesAMissingLog() throws IOException {
        Path log = dir.resolve("log.jsonl");
        Files.writeString(log, """
                {"step": 1, "loss": 0.5, "lr": 1e-6, "grad_norm": 0.1, "seconds": 1.0}
                {"step": 2, "loss": null, "lr": 1e-6, "grad_norm": null, "seconds": 1.0}

                {"step": 3, "loss": 0.25, "lr": 1e-6, "grad_norm": 0.1, "seconds": 1.0}
                """);
        assertEquals(List.of(new LossPlot.Point(1, 0.5), new LossPlot.Point(3, 0.25)), LossPlot.read(log));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LossPlot.read(dir.resolve("none.jsonl")));
        assertEquals("Training log " + dir.resolve("none.jsonl") + " does not exist; run some training steps first.",
                e.getMessage());
    }

    @Test
    void theSmoothedLossIsTheProgressBarsMovingAverage() {
        double[] s = LossPlot.smoothed(List.of(new LossPlot.Point(1, 1.0), new LossPlot.Point(2, 0.0),
                new LossPlot.Point(3, 0.0)));
        assertEquals(1.0, s[0]);
        assertEquals(0.9, s[1], 1e-12);
        assertEquals(0.81, s[2], 1e-12);
    }

    @Test
    void ticksAreRoundAndLabelledWithoutFloatNoise() {
        // 0.88 / 6 ≈ 0.147 rounds to a spacing of 0.1
        assertEquals(List.of(0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1.0),
                Ticks.of(0.16, 1.04));
        assertEquals("0.3", Ticks.label(0.30000000000000004, 0.88));
        assertEquals(List.of(0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0), Ticks.of(0, 400));
        assertEquals("350", Ticks.label(350, 400));
        assertEquals("0.0035", Ticks.label(0.0035, 0.004));
    }

    private BufferedImage plotStepChange() throws IOException {
        StringBuilder log = new StringBuilder();
        for (int step = 1; step <= 100; step++) {
            log.append("{\"step\": ").append(step).append(", \"loss\": ").append(step <= 50 ? 1.0 : 0.2)
                    .append(", \"lr\": 1e-5, \"grad_norm\": 1.0, \"seconds\": 0.5}\n");
        }
        Files.writeString(dir.resolve("log.jsonl"), log);
        Path png = LossPlot.write(dir);
        assertEquals(dir.resolve("loss.png"), png);
        return ImageIO.read(png.toFile());
    }

    /** The mean row of the pixels of exactly {@code color} in the column of {@code step} (x spans steps 1…100). */
    private static double rowOf(BufferedImage png, int step, java.awt.Color color) {
        return rowOf(png, step, color, 0);
    }

    private static double rowOf(BufferedImage png, int step, java.awt.Color color, int fromRow) {
        int x = (int) Math.round(80 + (step - 1) / 99.0 * (800 - 80 - 24));
        List<Integer> rows = new ArrayList<>();
        for (int y = fromRow; y < png.getHeight(); y++) {
            if ((png.getRGB(x, y) & 0xFFFFFF) == (color.getRGB() & 0xFFFFFF)) {
                rows.add(y);
            }
        }
        assertTrue(!rows.isEmpty(), "no pixel of the colour at step " + step);
        return rows.stream().mapToInt(Integer::intValue).average().orElseThrow();
    }
}
