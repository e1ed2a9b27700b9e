package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every data problem is one sentence naming the value or file and what to do, raised by open(). */
class DataErrorsTest {
    @TempDir
    Path dir;

    private static String error(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(DataException.class, e).getMessage();
    }

    private Path images(String name, String... files) {
        Path d = dir.resolve(name);
        for (String f : files) {
            TestImages.solid(d.resolve(f), 64, 0x336699);
        }
        return d;
    }

    @Test
    void settings() {
        Path d = images("ok", "a.png");
        assertEquals("Resolution 100 is not a positive multiple of 64; use 512 for SD v1 or another multiple of 64.",
                error(() -> DataConfig.of(d, "p", 100)));
        assertEquals("Resolution 0 is not a positive multiple of 64; use 512 for SD v1 or another multiple of 64.",
                error(() -> DataConfig.of(d, "p", 0)));
        assertEquals("Batch size 0 is not allowed; use 1 or more.",
                error(() -> DataConfig.of(d, "p", 128).withOrder(true, 0, 1)));
        Path cls = dir.resolve("cls");
        assertEquals("Class image folder " + cls
                        + " was given without a class prompt; pass the class prompt (for example \"a photo of a dog\").",
                error(() -> DataConfig.of(d, "p", 128).withClasses(cls, " ")));
        assertEquals("Class prompt \"a dog\" was given without a class image folder; pass the folder of class images or"
                + " drop the prompt.", error(() -> DataConfig.of(d, "p", 128).withClasses(null, "a dog")));
    }

    @Test
    void folders() throws Exception {
        Path missing = dir.resolve("nope");
        assertEquals("Instance image folder " + missing + " does not exist; pass an existing folder of images.",
                error(() -> DreamBoothData.open(DataConfig.of(missing, "p", 64))));
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertEquals("Instance image folder " + empty
                        + " is empty; put the training images (png, jpg, jpeg, bmp or webp) in it.",
                error(() -> DreamBoothData.open(DataConfig.of(empty, "p", 64))));
        Path textOnly = Files.createDirectories(dir.resolve("text"));
        Files.writeString(textOnly.resolve("notes.txt"), "hi");
        Files.writeString(textOnly.resolve("scan.tiff"), "hi");
        assertEquals("Instance image folder " + textOnly + " has no images (png, jpg, jpeg, bmp or webp files directly"
                + " inside it); add some or pass another folder.",
                error(() -> DreamBoothData.open(DataConfig.of(textOnly, "p", 64))));
        Path file = textOnly.resolve("notes.txt");
        assertEquals("Instance image folder " + file + " is a file, not a folder; pass the folder that holds the images.",
                error(() -> DreamBoothData.open(DataConfig.of(file, "p", 64))));
        Path inst = images("inst", "a.png");
        Path cls = dir.resolve("classes");
        assertEquals("Class image folder " + cls + " does not exist; pass an existing folder of images.",
                error(() -> DreamBoothData.open(DataConfig.of(inst, "p", 64).withClasses(cls, "a dog"))));
    }

    @Test
    void anImageThatDoesNotDecode() throws Exception {
        Path d = images("bad", "a.png");
        Path bad = d.resolve("b.png");
        Files.writeString(bad, "this is not a picture");
        assertEquals("Image file " + bad + " is not an image format this JVM's ImageIO can read (PNG, JPEG, BMP, GIF or"
                + " WebP); replace or remove it, or skip bad images.",
                error(() -> DreamBoothData.open(DataConfig.of(d, "p", 64))));
    }

    @Test
    void skipBadImagesLeavesThemOutWithAWarning() throws Exception {
        Path d = images("bad", "a.png", "c.png");
        Path bad = d.resolve("b.png");
        Files.writeString(bad, "this is not a picture");
        DreamBoothData data = DreamBoothData.open(DataConfig.of(d, "p", 64).withSkipBadImages(true));
        assertEquals(List.of(d.resolve("a.png"), d.resolve("c.png")),
                data.instances().stream().map(TrainingImage::file).toList());
        assertEquals(List.of("Skipped image " + bad + ": it cannot be decoded (Image file " + bad
                + " is not an image format this JVM's ImageIO can read (PNG, JPEG, BMP, GIF or WebP).)."),
                data.warnings());

        Path allBad = Files.createDirectories(dir.resolve("allbad"));
        Files.writeString(allBad.resolve("x.jpg"), "nope");
        assertEquals("Instance image folder " + allBad + " has no image that decodes (all 1 were skipped); add readable"
                + " images.", error(() -> DreamBoothData.open(DataConfig.of(allBad, "p", 64).withSkipBadImages(true))));
    }

    @Test
    void anImageWithoutAnyCaption() {
        Path d = images("nocap", "dog.png");
        assertEquals("Image " + d.resolve("dog.png") + " has no caption; pass an instance prompt, add dog.txt beside it,"
                + " or list it in metadata.jsonl.", error(() -> DreamBoothData.open(DataConfig.of(d, null, 64))));
    }

    @Test
    void metadataProblemsNameTheLine() throws Exception {
        Path d = images("meta", "a.png", "b.png");
        Path meta = d.resolve("metadata.jsonl");
        Files.writeString(meta, "{\"file_name\": \"a.png\", \"text\": \"ok\"}\n\n{\"file_name\": \"b.png\", \"text\": \n");
        String m = error(() -> DreamBoothData.open(DataConfig.of(d, "p", 64)));
        assertEquals(meta + " line 3 is not a JSON object (", m.substring(0, m.indexOf('(') + 1));
        assertEquals("); write one {\"file_name\": ..., \"text\": ...} object per line.",
                m.substring(m.lastIndexOf(')')));

        Files.writeString(meta, "{\"file_name\": \"a.png\", \"text\": \"ok\"}\n{\"file_name\": \"c.png\", \"text\": \"x\"}\n");
        assertEquals(meta + " line 2 names \"c.png\" but " + d.resolve("c.png")
                + " does not exist; fix the name or remove the line.", error(() -> DreamBoothData.open(DataConfig.of(d, "p", 64))));

        Files.writeString(meta, "{\"file_name\": \"a.png\", \"caption\": \"x\"}\n");
        assertEquals(meta + " line 1 lacks a string \"file_name\" or \"text\"; write one {\"file_name\": ..., \"text\": ...}"
                + " object per line.", error(() -> DreamBoothData.open(DataConfig.of(d, "p", 64))));

        Files.writeString(meta, "{\"file_name\": \"a.png\", \"text\": \"x\"}\n{\"file_name\": \"./a.png\", \"text\": \"y\"}\n");
        assertEquals(meta + " line 2 names \"./a.png\" a second time; keep one line per image.",
                error(() -> DreamBoothData.open(DataConfig.of(d, "p", 64))));

        Files.writeString(meta, "{\"file_name\": \"metadata.jsonl\", \"text\": \"x\"}\n");
        assertEquals(meta + " line 1 names \"metadata.jsonl\", which is not an image directly inside " + d
                + " (png, jpg, jpeg, bmp or webp); fix the name or remove the line.",
                error(() -> DreamBoothData.open(DataConfig.of(d, "p", 64))));
    }

    @Test
    void aPositionPastTheEpoch() {
        DreamBoothData data = DreamBoothData.open(DataConfig.of(images("two", "a.png", "b.png"), "p", 64));
        assertEquals("Data position batch 2 is past the 2 batches of an epoch; use the position a run with the same data"
                + " saved.", error(() -> data.batch(new DataPosition(0, 2))));
        assertEquals("Data position {\"epoch\":1} needs integer \"epoch\" and \"batch\"; use the position a run saved.",
                error(() -> DataPosition.fromJson("{\"epoch\":1}")));
    }
}
