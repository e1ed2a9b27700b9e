package sdj.sd.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.sd.prompt.LoraTags;

/** {@code --lora FILE[:STRENGTH]} values and prompt tags looked up in the LoRA folder. */
class LoraRequestTest {
    @Test
    void flagValues() {
        assertEquals(new LoraRequest(Path.of("a.safetensors"), 0.7f), LoraRequest.parse("a.safetensors:0.7"));
        assertEquals(new LoraRequest(Path.of("a.safetensors"), 1f), LoraRequest.parse("a.safetensors"));
        assertEquals(new LoraRequest(Path.of("dir/a:b.safetensors"), 1f), LoraRequest.parse("dir/a:b.safetensors"));
        assertEquals(new LoraRequest(Path.of("dir/x"), -0.5f), LoraRequest.parse("dir/x:-0.5"));
        assertEquals(new LoraRequest(Path.of("C:x.pt"), 1f), LoraRequest.parse("C:x.pt"), "a drive letter stays");
    }

    @Test
    void promptTagsAreFoundByNameInTheFolderTree(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("styles/ink"));
        Files.writeString(dir.resolve("cat.safetensors"), "x");
        Files.writeString(dir.resolve("cat.pt"), "x");
        Files.writeString(dir.resolve("styles/ink/brush.bin"), "x");
        assertEquals(new LoraRequest(dir.resolve("cat.safetensors"), 0.3f),
                LoraRequest.resolve(new LoraTags.Tag("cat", 0.3f), dir));
        assertEquals(new LoraRequest(dir.resolve("styles/ink/brush.bin"), 1f),
                LoraRequest.resolve(new LoraTags.Tag("brush", 1f), dir));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoraRequest.resolve(new LoraTags.Tag("dog", 1f), dir));
        assertTrue(e.getMessage().contains("<lora:dog>") && e.getMessage().contains(dir.toString()), e.getMessage());
    }
}
