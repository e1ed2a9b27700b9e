package sdj.bench.profile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdj.io.Json;

/**
 * An {@link OpProfile} as text tables (per op type, then the slowest layers) and as JSON. Shares are
 * of the profiled run's wall time, the time outside ops included, so they add up to 100%.
 */
public final class ProfileReport {
    private final OpProfile profile;
    private final double peakGflops;

    /** peakGflops: the machine's fp32 peak at the thread count used, for the "% of peak" column. */
    public ProfileReport(OpProfile profile, double peakGflops) {
        this.profile = profile;
        this.peakGflops = peakGflops;
    }

    /** The op-type table and the {@code layers} slowest (layer, op type) rows. */
    public String table(int layers) {
        double wall = profile.wallSeconds();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "profile: %.3f s profiled wall time, %.1f GFLOP counted, fp32 peak %.0f GFLOP/s%n%n",
                wall, totalFlops() / 1e9, peakGflops));
        sb.append("| op type | calls | time s | share | GFLOP | GFLOP/s | % of peak | GB moved | GB/s | MiB allocated |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (OpProfile.Row r : profile.byType()) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.1f%% | %.2f | %.1f | %.1f%% | %.3f | %.1f | %.1f |%n",
                    r.type(), r.calls(), r.seconds(), share(r, wall), r.flops() / 1e9, rate(r), 100 * rate(r) / peakGflops,
                    r.bytes() / 1e9, r.seconds() > 0 ? r.bytes() / 1e9 / r.seconds() : 0,
                    r.allocatedBytes() / (double) (1 << 20)));
        }
        List<OpProfile.Row> byLayer = profile.byLayer();
        sb.append(String.format(Locale.ROOT, "%nslowest %d of %d (layer, op type) rows:%n%n", Math.min(layers, byLayer.size()),
                byLayer.size()));
        sb.append("| layer | op type | calls | time ms | share | GFLOP | GFLOP/s | % of peak |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (OpProfile.Row r : byLayer.subList(0, Math.min(layers, byLayer.size()))) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.2f%% | %.3f | %.1f | %.1f%% |%n",
                    r.module() == null ? "(no module)" : r.module(), r.type(), r.calls(), r.seconds() * 1e3, share(r, wall),
                    r.flops() / 1e9, rate(r), 100 * rate(r) / peakGflops));
        }
        return sb.toString();
    }

    /** The whole profile: wall time, peak, and every op-type and (layer, op type) row. */
    public String json(Map<String, Object> about) {
        double wall = profile.wallSeconds();
        Map<String, Object> doc = new LinkedHashMap<>(about);
        doc.put("wall_seconds", wall);
        doc.put("peak_gflops", peakGflops);
        doc.put("gflop", totalFlops() / 1e9);
        doc.put("by_type", rows(profile.byType(), wall));
        doc.put("by_layer", rows(profile.byLayer(), wall));
        return Json.write(doc);
    }

    private List<Map<String, Object>> rows(List<OpProfile.Row> rows, double wall) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (OpProfile.Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (r.module() != null) {
                m.put("layer", r.module());
            }
            m.put("type", r.type());
            m.put("calls", r.calls());
            m.put("seconds", r.seconds());
            m.put("share", share(r, wall) / 100);
            m.put("flops", r.flops());
            m.put("bytes", r.bytes());
            m.put("allocated_bytes", r.allocatedBytes());
            m.put("fraction_of_peak", rate(r) / peakGflops);
            out.add(m);
        }
        return out;
    }

    private double totalFlops() {
        return profile.byType().stream().mapToDouble(OpProfile.Row::flops).sum();
    }

    private static double share(OpProfile.Row r, double wall) {
        return wall > 0 ? 100 * r.seconds() / wall : 0;
    }

    private static double rate(OpProfile.Row r) {
        return r.seconds() > 0 ? r.flops() / 1e9 / r.seconds() : 0;
    }
}
