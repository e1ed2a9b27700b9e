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
        assertTrue(run.out().contains("| op type | calls | time s | share | GFLOP | GFLOP/s | % of peak | GB moved | GB/s | MiB"
                + " allocated |"),
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
    void vaeDecodeProfileChargesTheMidBlockAttentionItsTwoProducts(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("vae.json");
        CliRun run = CliRun.sdj("bench", "vae", "--config", "../models/sd-tiny.json", "--latent", "8", "--runs", "1",
                "--profile-json", json.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("VAE decode (ch 32) random weights, latent 8x8 to 64x64 images, batch 1"), run.out());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> byLayer = (List<Map<String, Object>>) Json.parseObject(Files.readString(json))
                .get("by_layer");
        // one head over 8·8 tokens of 4·32 channels: q·kᵀ and p·v, 2·64·64·128 FLOPs each
        assertTrue(byLayer.stream().anyMatch(r -> "first_stage_model.decoder.mid.attn_1".equals(r.get("layer"))
                && "attention".equals(r.get("type")) && ((Number) r.get("flops")).doubleValue() == 2.0 * 2 * 64 * 64 * 128),
                byLayer.toString());
    }

    @Test
    void profileOfAKernelBenchIsRefusedWithTheBenchesThatHaveOne() {
        CliRun run = CliRun.sdj("bench", "gemm", "--profile");
        assertEquals(1, run.status());
        assertTrue(run.err().contains("--profile works with 'sdj bench unet', 'vae', 'unet-train' and 'train'; leave it out"
                + " for gemm"), run.err());
    }
}
