package sdj.sd.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A1111's {@code <lora:NAME:STRENGTH>} tags: found, removed from the text, bad ones named. */
class LoraTagsTest {
    @Test
    void tagsAreFoundInOrderWithTheirStrengths() {
        assertEquals(List.of(new LoraTags.Tag("sks_cat", 0.7f), new LoraTags.Tag("style", 1f),
                new LoraTags.Tag("old", -0.25f)),
                LoraTags.of("photo of a <lora:sks_cat:0.7> cat, <lora:style> (detailed:1.2) <lyco:old:-0.25>"));
        assertEquals(List.of(), LoraTags.of("a (cat:1.2) <not:a tag> and <lora without colon>"));
    }

    @Test
    void textEncoderAndUNetStrengthsAsA1111ReadsThem() {
        assertEquals(List.of(new LoraTags.Tag("a", 1f, 0.5f), new LoraTags.Tag("b", 0.3f, 0.3f),
                new LoraTags.Tag("c", 0f, 0.8f), new LoraTags.Tag("d", 0.6f, 0.2f), new LoraTags.Tag("e", 1f, 0.4f)),
                LoraTags.of("<lora:a:1:0.5> <lora:b:te=0.3> <lora:c:0:unet=0.8> <lora:d:unet=0.2:te=0.6> <lora:e:unet=0.4>"));
    }

    @Test
    void tagsAreRemovedAndTheRestIsKept() {
        assertEquals("photo of a  cat, (detailed:1.2) <hypernet:x:1>",
                LoraTags.strip("photo of a <lora:sks_cat:0.7> cat,<lora:style> (detailed:1.2) <hypernet:x:1>"));
    }

    @Test
    void aBadStrengthIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraTags.of("a <lora:x:strong>"));
        assertTrue(e.getMessage().contains("<lora:x:strong>") && e.getMessage().contains("'strong'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LoraTags.of("a <lora::1>"));
        assertThrows(IllegalArgumentException.class, () -> LoraTags.of("a <lora:x:1:0.5:2>"));
    }
}
