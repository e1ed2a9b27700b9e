package sdj.sd.pipeline;

import java.util.Locale;
import sdj.sd.ModelConfigs;
import sdj.sd.vae.VaeTiling;

/**
 * Refuses, before any weight is read, a CPU request whose tensors a Java array cannot hold or whose
 * heap need ({@link MemoryEstimate}) exceeds the JVM's maximum heap, with one sentence naming the size,
 * the memory it needs and what to do instead.
 */
public final class SizeCheck {
    private static final double GIB = 1024.0 * 1024 * 1024;

    private SizeCheck() {
    }

    /** Bytes the request needs: the weights plus the busiest stage's live floats. */
    public static long neededBytes(MemoryEstimate.Stage[] stages, long weightBytes) {
        long peak = 0;
        for (MemoryEstimate.Stage s : stages) {
            peak = Math.max(peak, s.peakFloats());
        }
        return weightBytes + 4 * peak;
    }

    /**
     * Null when the request fits, else the sentence that says why not.
     *
     * @param weightBytes the weights' share of the heap (the checkpoint's size, a floor for fp16 files)
     * @param maxHeap {@code Runtime.getRuntime().maxMemory()} of the JVM that would run it
     */
    public static String refusal(ModelConfigs configs, GenerationRequest r, VaeTiling tiling, long weightBytes,
            long maxHeap, int threads) {
        MemoryEstimate.Stage[] stages = MemoryEstimate.stages(configs, r, tiling, threads);
        long need = neededBytes(stages, weightBytes);
        String size = r.width() + "x" + r.height();
        for (MemoryEstimate.Stage s : stages) {
            if (!s.addressable()) {
                return String.format(Locale.ROOT, "%s is too large: %s %s would hold %d elements, more than one Java "
                        + "array can address (%d), and the run would need about %s of heap (this JVM has %s); %s",
                        size, s.largestWhat(), s.shapeText(), s.largestElements(), s.limit(), gib(need), gib(maxHeap),
                        remedy(s, tiling, false, need));
            }
        }
        if (need <= maxHeap) {
            return null;
        }
        MemoryEstimate.Stage busiest = stages[0];
        for (MemoryEstimate.Stage s : stages) {
            busiest = s.peakFloats() > busiest.peakFloats() ? s : busiest;
        }
        return String.format(Locale.ROOT, "%s needs about %s of heap (%s of weights plus %s at the %s stage, whose "
                + "largest tensor is %s %s), but this JVM has %s; %s", size, gib(need), gib(weightBytes),
                gib(4 * busiest.peakFloats()), busiest.name(), busiest.largestWhat(), busiest.shapeText(), gib(maxHeap),
                remedy(busiest, tiling, true, need));
    }

    private static String remedy(MemoryEstimate.Stage s, VaeTiling tiling, boolean heapHelps, long need) {
        String smaller = "use a smaller --W/--H";
        if (s.name().equals("vae decode") && tiling == null) {
            smaller += " or add --vae-tiling";
        }
        if (!heapHelps) {
            return smaller + ".";
        }
        long gib = (long) Math.ceil(need / GIB) + 1;
        return smaller + ", or give Java more heap (SDJ_HEAP=" + gib + "g ./sdj ..., on a machine with that much memory).";
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / GIB);
    }
}
