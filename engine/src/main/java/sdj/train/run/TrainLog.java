package sdj.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.io.AtomicFile;
import sdj.io.Json;
import sdj.train.optim.DynamicLossScaler;

/**
 * {@code OUTDIR/log.jsonl}: one JSON object per optimizer step, {@code {"step", "loss", "lr", "grad_norm",
 * "seconds"}}. A resumed run first drops the lines of steps after its checkpoint (a killed run may have
 * logged steps it never saved), so the file always describes the weights the run ends with.
 */
final class TrainLog {
    static final String FILE = "log.jsonl";

    private final Path file;

    private TrainLog(Path file) {
        this.file = file;
    }

    /** The log of outputDir, keeping the lines of steps 1..resumedStep (none for a fresh run). */
    static TrainLog open(Path outputDir, long resumedStep) throws IOException {
        Path file = outputDir.resolve(FILE);
        List<String> kept = new ArrayList<>();
        if (resumedStep > 0 && Files.isRegularFile(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank() && stepOf(line) <= resumedStep) {
                    kept.add(line);
                }
            }
        }
        String text = kept.isEmpty() ? "" : String.join("\n", kept) + "\n";
        AtomicFile.write(file, text.getBytes(StandardCharsets.UTF_8));
        return new TrainLog(file);
    }

    void append(long step, double loss, double lr, double gradNorm, double seconds) throws IOException {
        append(step, loss, lr, gradNorm, seconds, null, false);
    }

    /**
     * As above; under fp16 loss scaling also {@code "loss_scale"} (the scale after the step) and, for a step
     * skipped for inf/NaN gradients, {@code "skipped": true}.
     */
    void append(long step, double loss, double lr, double gradNorm, double seconds, DynamicLossScaler scaler,
            boolean skipped) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.put("loss", finiteOrNull(loss));
        line.put("lr", lr);
        line.put("grad_norm", finiteOrNull(gradNorm));
        line.put("seconds", seconds);
        if (scaler != null) {
            line.put("loss_scale", (double) scaler.scale());
        }
        if (skipped) {
            line.put("skipped", true);
        }
        Files.writeString(file, Json.write(line) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    private static Object finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null; // JSON has no NaN
    }

    private static long stepOf(String line) {
        try {
            return Json.parseObject(line).get("step") instanceof Long s ? s : Long.MAX_VALUE;
        } catch (IllegalArgumentException e) {
            return Long.MAX_VALUE; // a line cut short by a kill: drop it
        }
    }
}
