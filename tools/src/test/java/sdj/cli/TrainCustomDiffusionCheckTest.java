package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `sdj train custom-diffusion --reference DIR --check` on shared/testdata/sd-tiny-train: both concepts' updates
 * (cd.*, cd2.*), then the merge and the compression (merge.*, svd.*); a copy whose Custom Diffusion lr differs in
 * the metadata fails from the second update on, so the replay takes its settings from the file.
 */
class TrainCustomDiffusionCheckTest {
    @TempDir
    Path dir;

    @Test
    void theReferenceRunPassesEveryCheck() {
        CliRun r = CliRun.sdj("train", "custom-diffusion", "--reference", TrainCommandTest.trainReference().toString(),
                "--check");
        List<String> lines = r.out().lines().toList();
        assertEquals(0, r.status(), r.err() + lines.stream().filter(l -> l.endsWith("FAIL")).toList());
        int n = lines.size() - 1;
        assertEquals(n + "/" + n + " checks pass", lines.getLast());
        for (String line : lines.subList(0, n)) {
            assertTrue(line.matches("(cd|cd2|merge|svd)\\.\\S+ \\S+ \\S+ PASS"), line);
        }
        assertEquals(70, lines.stream().filter(l -> l.startsWith("cd.")).count(), "cd: 2 forward, 2 losses, 33 + 33");
        assertEquals(70, lines.stream().filter(l -> l.startsWith("cd2.")).count(), "cd2: latents, noisy, 2 + 33 + 33");
        assertEquals(64, lines.stream().filter(l -> l.startsWith("svd.")).count(), "32 ranks and 32 weights");
        assertTrue(lines.stream().filter(l -> l.startsWith("merge.")).count() >= 32, "every merged weight");
        assertTrue(lines.get(0).startsWith("cd.") && lines.get(70).startsWith("cd2."), "training checks come first");
    }

    @Test
    void aCopyWithAnotherLearningRateFailsAfterTheFirstUpdate() throws Exception {
        Path ref = TrainCommandTest.trainReference();
        Path copy = Files.createDirectory(dir.resolve("sd-tiny-train"));
        for (String f : List.of("delta.ckpt", "delta2.ckpt", "reg_captions.txt")) {
            Files.copy(ref.resolve(f), copy.resolve(f));
        }
        byte[] bytes = Files.readAllBytes(ref.resolve("train-reference.safetensors"));
        String from = "\\\"custom_diffusion\\\": {\\\"lr\\\": 0.001,";
        String to = "\\\"custom_diffusion\\\": {\\\"lr\\\": 0.002,"; // same length: the tensor offsets stay valid
        int headerEnd = 8 + (int) java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, headerEnd - 8, StandardCharsets.UTF_8);
        assertTrue(header.contains(from), "the reference's Custom Diffusion lr is 1e-3 (README A)");
        byte[] changed = header.replace(from, to).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(changed, 0, bytes, 8, changed.length);
        Files.write(copy.resolve("train-reference.safetensors"), bytes);

        CliRun r = CliRun.sdj("train", "custom-diffusion", "--reference", copy.toString(), "--check", "--ckpt",
                ref.resolveSibling("sd-tiny/model.ckpt").toString(), "--vocab",
                "../models/clip/bpe_simple_vocab_16e6.txt.gz");
        List<String> lines = r.out().lines().toList();
        assertEquals(1, r.status(), r.err());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("cd.loss.1 ") && l.endsWith(" PASS")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("cd.loss.2 ") && l.endsWith(" FAIL")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("cd2.after.2.embed ") && l.endsWith(" FAIL")), r.out());
        assertEquals(64, lines.stream().filter(l -> l.startsWith("svd.") && l.endsWith(" PASS")).count(),
                "the tool checks read the unchanged deltas: " + r.out());
    }
}
