package sdj.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.io.Json;
import sdj.io.TestData;

/** diffusers' schedules against lr_schedules.json of shared/testdata/sd-tiny-train (section F): 1e-12 relative. */
class LrScheduleTest {
    @Test
    @SuppressWarnings("unchecked")
    void everyEntryOfTheReferenceSchedulesMatches() throws IOException {
        Map<String, Object> doc = Json.parseObject(Files.readString(
                TestData.shared().resolve("testdata/sd-tiny-train/lr_schedules.json")));
        double base = ((Number) doc.get("base_lr")).doubleValue();
        long warmup = ((Number) doc.get("num_warmup_steps")).longValue();
        long total = ((Number) doc.get("num_training_steps")).longValue();
        Map<String, Object> kwargs = (Map<String, Object>) doc.get("get_scheduler_kwargs");
        int cycles = ((Number) kwargs.get("num_cycles")).intValue();
        double power = ((Number) kwargs.get("power")).doubleValue();
        double lrEnd = ((Number) doc.get("lr_end")).doubleValue();
        Map<String, Object> schedules = (Map<String, Object>) doc.get("schedules");
        assertEquals(List.of("constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts",
                "polynomial"), List.copyOf(schedules.keySet()));
        int checked = 0;
        for (var e : schedules.entrySet()) {
            LrSchedule schedule = LrSchedule.byName(e.getKey(), warmup, total, base, cycles, power, lrEnd);
            List<Object> lrs = (List<Object>) e.getValue();
            assertEquals(total, lrs.size(), e.getKey());
            for (int k = 1; k <= lrs.size(); k++) {
                double want = ((Number) lrs.get(k - 1)).doubleValue();
                double got = schedule.lrAt(base, k);
                assertTrue(Math.abs(got - want) <= 1e-12 * Math.abs(want),
                        e.getKey() + " update " + k + ": " + got + ", reference " + want);
                checked++;
            }
        }
        assertEquals(600, checked);
    }

    @Test
    void warmupStartsAtZeroAndParametersAreNotConstants() {
        // W = 4, N = 20: update 1 uses λ(0) = 0, update 3 uses 2/4; linear reaches 0 at s = N
        assertEquals(0.0, LrSchedule.linear(4, 20).lrAt(1e-3, 1));
        assertEquals(0.5e-3, LrSchedule.linear(4, 20).lrAt(1e-3, 3), 1e-18);
        assertEquals(1e-3 * 6 / 16, LrSchedule.linear(4, 20).lrAt(1e-3, 15), 1e-18);
        assertEquals(0.0, LrSchedule.linear(4, 20).lrAt(1e-3, 21));
        // two cycles of restarts over 16 steps: the lr is back at its top at p = 0.5 (s = 12)
        assertEquals(1e-3, LrSchedule.cosineWithRestarts(4, 20, 2).lrAt(1e-3, 13), 1e-18);
        // polynomial with power 1 is linear between lr0 and lr_end; past N it stays at lr_end
        assertEquals((1e-3 - 1e-5) * 0.75 + 1e-5, LrSchedule.polynomial(4, 20, 1e-3, 1e-5, 1).lrAt(1e-3, 9), 1e-18);
        assertEquals(1e-5, LrSchedule.polynomial(4, 20, 1e-3, 1e-5, 1).lrAt(1e-3, 30), 1e-18);
    }

    @Test
    void badNamesAndUpdatesAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.byName("cosine_annealing", 0, 10, 1e-4, 1,
                1, 1e-7));
        assertTrue(e.getMessage().contains("cosine_annealing"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant().lrAt(1e-4, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.polynomial(0, 10, 1e-7, 1e-7, 2));
    }
}
