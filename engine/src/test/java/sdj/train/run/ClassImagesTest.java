package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sdj.image.Images;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;

/**
 * Class images on sd-tiny at 64² with 2 PLMS steps: the folder is topped up to numClassImages with files
 * named {index}-{sha1 of the file}.png, whose pixels are those of a direct txt2img call with the image's
 * seed; a run stopped after k images keeps them untouched and a rerun makes only the rest, the same
 * files an uninterrupted run makes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClassImagesTest {
    private static final long SEED = 77;

    @TempDir
    static Path dir;

    private StableDiffusion sd;

    @BeforeAll
    void load() throws IOException {
        Path ckpt = TestData.sdTiny("model.ckpt");
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(StateDicts.load(ckpt),
                ModelConfigFiles.read(Path.of("../models/sd-tiny.json")), ckpt.toString());
        sd = new StableDiffusion(model, ClipTokenizer.load(Path.of("../models/clip/bpe_simple_vocab_16e6.txt.gz")));
    }

    private static TrainConfig config(Path classes, int wanted, int batch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("withPriorPreservation", true);
        m.put("classDataDir", classes.toString());
        m.put("classPrompt", "a photo of dog");
        m.put("numClassImages", wanted);
        m.put("sampleBatchSize", batch);
        m.put("classInferenceSteps", 2);
        m.put("resolution", 64);
        return TrainConfig.defaults().with(m);
    }

    @Test
    void topsUpToNumClassImagesWithIndexAndHashNamesAndTheDirectSamplersPixels() throws IOException {
        Path classes = Files.createDirectories(dir.resolve("topped"));
        Files.copy(TestData.shared().resolve("testdata/sd-tiny-train/class_0.png"), classes.resolve("mine.png"));
        Files.writeString(classes.resolve("notes.txt"), "not an image, not counted");

        List<Path> written = ClassImages.fill(config(classes, 4, 2), SEED, sd, ClassImages.Listener.NONE);

        assertEquals(3, written.size());
        assertEquals(4, ClassImages.count(classes));
        for (int i = 0; i < 3; i++) {
            String name = written.get(i).getFileName().toString();
            // index continues after the one image already there; the hash is the SHA-1 of the file's bytes
            assertEquals((1 + i) + "-" + sha1(Files.readAllBytes(written.get(i))) + ".png", name);
        }
        // batches of 2: indices 1 and 2 from one call with seeds 78, 79; index 3 alone with seed 80
        List<StableDiffusion.GeneratedImage> direct = sd.generate(request(2, SEED + 1), (s, n) -> { });
        direct = Stream.concat(direct.stream(), sd.generate(request(1, SEED + 3), (s, n) -> { }).stream()).toList();
        for (int i = 0; i < 3; i++) {
            BufferedImage file = Images.load(written.get(i));
            BufferedImage want = Images.fromTensor(direct.get(i).pixels(), 0);
            assertEquals(64, file.getWidth());
            assertArrayEquals(want.getRGB(0, 0, 64, 64, null, 0, 64), file.getRGB(0, 0, 64, 64, null, 0, 64),
                    "class image " + (1 + i));
        }
        // enough images now: a second call makes none
        assertEquals(List.of(), ClassImages.fill(config(classes, 4, 2), SEED, sd, ClassImages.Listener.NONE));
        assertEquals(4, ClassImages.count(classes));
    }

    @Test
    void aRunStoppedHalfWayKeepsItsImagesAndTheRerunMakesOnlyTheRest() throws IOException {
        Path stopped = dir.resolve("stopped");
        ClassImages.Listener crashAfterTwo = (file, done, total) -> {
            if (done == 2) {
                throw new IOException("injected stop after " + file);
            }
        };
        assertThrows(IOException.class, () -> ClassImages.fill(config(stopped, 5, 1), SEED, sd, crashAfterTwo));
        Map<String, byte[]> kept = contents(stopped);
        assertEquals(2, kept.size());
        Map<String, FileTime> keptTimes = new TreeMap<>();
        for (String name : kept.keySet()) {
            keptTimes.put(name, Files.getLastModifiedTime(stopped.resolve(name)));
        }

        List<Path> rest = ClassImages.fill(config(stopped, 5, 1), SEED, sd, ClassImages.Listener.NONE);

        assertEquals(3, rest.size());
        assertTrue(rest.get(0).getFileName().toString().startsWith("2-"), rest.get(0).toString());
        Map<String, byte[]> all = contents(stopped);
        assertEquals(5, all.size());
        for (String name : kept.keySet()) {
            assertArrayEquals(kept.get(name), all.get(name), name);
            assertEquals(keptTimes.get(name), Files.getLastModifiedTime(stopped.resolve(name)), name);
        }
        // seeds follow the index, so stopping and rerunning makes exactly the files of an uninterrupted run
        Path straight = dir.resolve("straight");
        ClassImages.fill(config(straight, 5, 1), SEED, sd, ClassImages.Listener.NONE);
        assertEquals(all.keySet(), contents(straight).keySet());
    }

    private static GenerationRequest request(int batch, long seed) {
        return new GenerationRequest("a photo of dog", "", "plms", false, 2, 7.5f, seed, 64, 64, batch, 1, 0.0, null,
                1.0, null);
    }

    /** Every file in the folder (no temporary files left) by name. */
    private static Map<String, byte[]> contents(Path folder) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.toList()) {
                out.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return out;
    }

    private static String sha1(byte[] bytes) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
    }
}
