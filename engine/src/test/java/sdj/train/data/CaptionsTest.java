package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Caption precedence: metadata.jsonl, then name.txt, then the fixed prompt. */
class CaptionsTest {
    @TempDir
    Path dir;

    private List<String> captions(Path folder, String prompt) {
        return DreamBoothData.open(DataConfig.of(folder, prompt, 64)).instances().stream().map(TrainingImage::caption)
                .toList();
    }

    @Test
    void metadataBeatsTheTextFileWhichBeatsTheFixedPrompt() throws Exception {
        Path f = dir.resolve("imgs");
        for (String n : List.of("a.png", "b.jpg", "c.png")) {
            TestImages.write(f.resolve(n), TestImages.image(64, 64, (x, y) -> 0x808080), n.endsWith("png") ? "png" : "jpg");
        }
        Files.writeString(f.resolve("a.txt"), "from a.txt");
        Files.writeString(f.resolve("b.txt"), "  photo of sks dog, on grass \n", StandardCharsets.UTF_8);
        Files.writeString(f.resolve("metadata.jsonl"), "{\"file_name\": \"a.png\", \"text\": \"from metadata é\"}\n\n");
        assertEquals(List.of("from metadata é", "photo of sks dog, on grass", "fixed prompt"), captions(f, "fixed prompt"));
    }

    @Test
    void theFixedPromptCaptionsAFolderWithoutCaptionFiles() {
        Path f = dir.resolve("plain");
        TestImages.solid(f.resolve("x.png"), 64, 0);
        TestImages.solid(f.resolve("y.png"), 64, 0);
        assertEquals(List.of("a photo of sks dog", "a photo of sks dog"), captions(f, "a photo of sks dog"));
    }

    @Test
    void metadataAloneCaptionsEveryImageAndMayUseAByteOrderMark() throws Exception {
        Path f = dir.resolve("hf");
        TestImages.solid(f.resolve("0001.png"), 64, 0);
        TestImages.solid(f.resolve("0002.png"), 64, 0);
        Files.writeString(f.resolve("metadata.jsonl"), "\uFEFF{\"file_name\":\"0002.png\",\"text\":\"second\"}\r\n"
                + "{\"text\":\"first\",\"file_name\":\"./0001.png\",\"extra\":1}\n");
        assertEquals(List.of("first", "second"), captions(f, null));
    }

    @Test
    void classImagesKeepTheirOwnCaptionsAndTheRestTakeTheClassPrompt() throws Exception {
        Path inst = dir.resolve("inst");
        Path cls = dir.resolve("cls");
        TestImages.solid(inst.resolve("a.png"), 64, 0);
        TestImages.solid(cls.resolve("c.png"), 64, 0);
        TestImages.solid(cls.resolve("d.png"), 64, 0);
        Files.writeString(cls.resolve("c.txt"), "a red circle\n");
        DreamBoothData data = DreamBoothData.open(DataConfig.of(inst, "sks dog", 64).withClasses(cls, "a dog"));
        assertEquals(List.of(new TrainingImage(cls.resolve("c.png"), "a red circle"),
                new TrainingImage(cls.resolve("d.png"), "a dog")), data.classes());
    }
}
