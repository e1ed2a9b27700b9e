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
 * `sdj train dreambooth --reference DIR --check` on shared/testdata/sd-tiny-train: the replay passes on the real
 * reference, fails where a copy's hyperparameters or the base checkpoint differ, and bad input is one sentence.
 */
class TrainCommandTest {
    @TempDir
    Path dir;

    static Path trainReference() {
        Path p = Path.of(System.getProperty("sdj.shared", "../../shared")).resolve("testdata/sd-tiny-train");
        assertTrue(Files.isRegularFile(p.resolve("train-reference.safetensors")),
                "test data " + p + " missing; run through Maven or set -Dsdj.shared");
        return p;
    }

    @Test
    void theReferenceRunPassesEveryCheck() {
        CliRun r = CliRun.sdj("train", "dreambooth", "--reference", trainReference().toString(), "--check");
        List<String> lines = r.out().lines().toList();
        assertEquals(0, r.status(), r.err() + lines.stream().filter(l -> l.endsWith("FAIL")).toList());
        // 12 update-1 checks, db.loss.2 and db.gradnorm.2, and the 686 UNet tensors of the README
        assertEquals("700/700 checks pass", lines.getLast());
        assertEquals(701, lines.size());
        for (String line : lines.subList(0, 700)) {
            assertTrue(line.matches("\\S+ \\d\\.\\d{3}e[-+]\\d+ \\d\\.\\d{3}e[-+]\\d+ PASS"), line);
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("db.loss.2 ")));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("db.after.2.model.diffusion_model.out.2.weight ")));
        assertEquals("", r.err(), "the default base checkpoint is the reference's (sha256 in its metadata)");
    }

    @Test
    void aCopyWithAnotherLearningRateFailsAfterTheFirstUpdate() throws Exception {
        Path copy = Files.createDirectory(dir.resolve("sd-tiny-train"));
        byte[] bytes = Files.readAllBytes(trainReference().resolve("train-reference.safetensors"));
        // the hyperparameters JSON is a string inside the header's JSON, hence the escaped quotes
        String from = "\\\"dreambooth\\\": {\\\"lr\\\": 0.0001,";
        String to = "\\\"dreambooth\\\": {\\\"lr\\\": 0.0002,"; // same length: the tensor offsets stay valid
        int headerEnd = 8 + (int) java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, headerEnd - 8, StandardCharsets.UTF_8);
        assertEquals(header.indexOf(from), header.lastIndexOf(from), "one DreamBooth lr in the metadata");
        assertTrue(header.contains(from), "the reference's DreamBooth lr is 1e-4 (README E)");
        byte[] changed = header.replace(from, to).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(changed, 0, bytes, 8, changed.length);
        Files.write(copy.resolve("train-reference.safetensors"), bytes);

        CliRun r = CliRun.sdj("train", "dreambooth", "--reference", copy.toString(), "--check", "--ckpt",
                trainReference().resolveSibling("sd-tiny/model.ckpt").toString());
        List<String> lines = r.out().lines().toList();
        assertEquals(1, r.status(), r.err());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("db.loss.1 ") && l.endsWith(" PASS")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("db.loss.2 ") && l.endsWith(" FAIL")), r.out());
        long failedWeights = lines.stream().filter(l -> l.startsWith("db.after.2.") && l.endsWith(" FAIL")).count();
        assertTrue(failedWeights > 600, failedWeights + " of 686 weight checks fail with twice the lr");
        assertTrue(lines.getLast().matches("\\d+/700 checks pass") && !lines.getLast().equals("700/700 checks pass"),
                lines.getLast());
    }

    @Test
    void anotherBaseCheckpointIsNotedAndFails() {
        Path fp16 = trainReference().resolveSibling("sd-tiny/model-fp16.ckpt");
        CliRun r = CliRun.sdj("train", "dreambooth", "--reference", trainReference().toString(), "--check", "--ckpt",
                fp16.toString());
        assertEquals(1, r.status(), r.err());
        assertEquals("sdj train: note: " + fp16 + " is not the reference's base checkpoint (sha256"
                + " 1c1da1f9426a889aa1d7a787afb82996f7734115ac886a03c4a908288fee6b5f), so expect FAIL lines.\n", r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("db.after.2.") && l.endsWith(" FAIL")), r.out());
    }

    @Test
    void whatIsNotAvailableYetIsOneSentence() {
        String available = "available now: 'sdj train dreambooth|custom-diffusion|lora --ckpt BASE --instance-data-dir D"
                + " --instance-prompt P ...' (fine-tunes; see sdj train --help) and 'sdj train"
                + " dreambooth|custom-diffusion|lora --reference DIR --check' (checks the updates against a training"
                + " reference).\n";
        assertUsage("sdj train: sdj train needs a method; " + available, "train");
        assertUsage("sdj train: 'textual-inversion' is not available; " + available, "train", "textual-inversion",
                "--reference", "x", "--check");
        assertUsage("sdj train: --reference DIR goes with --check; add --check to replay the reference, or leave"
                + " --reference out to train.\n", "train", "dreambooth", "--reference", trainReference().toString());
    }

    @Test
    void textToImageNamesWhatItLacks() {
        assertUsage("sdj train: text-to-image needs --train-data-dir DIR, a folder of images with a metadata.jsonl of"
                + " {\"file_name\": ..., \"text\": ...} lines (sdj data shapes writes one).\n", "train", "text-to-image");
        // from scratch (no --ckpt): the seed makes the random start reproducible and resumable
        assertUsage("sdj train: --seed is missing; training from scratch (a vae and no base checkpoint) starts from"
                + " weights seeded by it, so give one to make the run reproducible and resumable.\n", "train",
                "text-to-image", "--train-data-dir", dir.toString(), "--vae", dir.resolve("vae.safetensors").toString(),
                "--model-config", "../models/sdj-shapes.json", "--output-dir", dir.resolve("out").toString(),
                "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz");
    }

    @Test
    void missingFoldersAndFilesAreOneSentence() throws Exception {
        assertUsage("sdj train: --check needs --reference DIR, a folder with train-reference.safetensors.\n", "train",
                "dreambooth", "--check");
        Path missing = dir.resolve("nope");
        assertUsage("sdj train: --reference " + missing + " does not exist or is not a folder; give the folder that"
                + " holds train-reference.safetensors.\n", "train", "dreambooth", "--reference", missing.toString(),
                "--check");
        assertUsage("sdj train: " + dir + " has no train-reference.safetensors; give the folder of a training reference"
                + " (sd-tiny-train layout).\n", "train", "dreambooth", "--reference", dir.toString(), "--check");
        Path noCkpt = dir.resolve("model.ckpt");
        assertUsage("sdj train: the base checkpoint " + noCkpt + " does not exist; pass it with --ckpt FILE.\n", "train",
                "dreambooth", "--reference", trainReference().toString(), "--check", "--ckpt", noCkpt.toString());
    }

    @Test
    void theDefaultBaseIsTheMetadatasPathNextToTheFolder() throws Exception {
        Path copy = Files.createDirectory(dir.resolve("ref"));
        Files.createSymbolicLink(copy.resolve("train-reference.safetensors"),
                trainReference().resolve("train-reference.safetensors").toAbsolutePath());
        // metadata base_checkpoint "sd-tiny/model.ckpt (…)": looked up in the folder above DIR, not in the shared one
        assertUsage("sdj train: the base checkpoint " + dir.toAbsolutePath().resolve("sd-tiny/model.ckpt")
                + " does not exist; pass it with --ckpt FILE.\n", "train", "dreambooth", "--reference", copy.toString(),
                "--check");
    }

    private static void assertUsage(String stderr, String... args) {
        CliRun r = CliRun.sdj(args);
        assertEquals(stderr, r.err());
        assertEquals("", r.out());
        assertEquals(2, r.status());
    }
}
