package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.Json;

/** `sdj bench … --profile [--profile-json FILE]`: the printed tables and the JSON file. */
class BenchProfileCommandTest {
    @Test
    void unetTrainProfilePrintsForwardAndBackwardRowsAndWritesJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("profile.json");
        CliRun run = CliRun.sdj("bench", "unet-train", "--config", "../models/sd-tiny.json", "--latent", "16", "--batch",
                "1", "--profile-json", json.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("| op type | calls | time s | share | GFLOP | GFLOP/s | % of peak | GB moved | GB/s |"),
                run.out());
        assertTrue(run.out().contains("| conv backward |") && run.out().contains("| attention backward |"), run.out());

        Map<String, Object> doc = Json.parseObject(Files.readString(json));
        assertEquals("unet-train latent 16 batch 1", doc.get("bench"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> byType = (List<Map<String, Object>>) doc.get("by_type");
        assertEquals(1.0, byType.stream().mapToDouble(r -> ((Number) r.get("share")).doubleValue()).sum(), 1e-9);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> byLayer = (List<Map<String, Object>>) doc.get("by_layer");
        assertTrue(byLayer.stream().anyMatch(r -> "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2"
                .equals(r.get("layer")) && "attention backward".equals(r.get("type"))), "attn2's backward row");
    }

    @Test
    void profileOfAKernelBenchIsRefusedWithTheBenchesThatHaveOne() {
        CliRun run = CliRun.sdj("bench", "gemm", "--profile");
        assertEquals(1, run.status());
        assertTrue(run.err().contains("--profile works with 'sdj bench unet', 'unet-train' and 'train'; leave it out for gemm"),
                run.err());
    }
}
