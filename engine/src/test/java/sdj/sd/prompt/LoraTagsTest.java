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
    void tagsAreRemovedAndTheRestIsKept() {
        assertEquals("photo of a  cat, (detailed:1.2) <hypernet:x:1>",
                LoraTags.strip("photo of a <lora:sks_cat:0.7> cat,<lora:style> (detailed:1.2) <hypernet:x:1>"));
    }

    @Test
    void aBadStrengthIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraTags.of("a <lora:x:strong>"));
        assertTrue(e.getMessage().contains("<lora:x:strong>") && e.getMessage().contains("'strong'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LoraTags.of("a <lora::1>"));
        assertThrows(IllegalArgumentException.class, () -> LoraTags.of("a <lora:x:1:0.5>"));
    }
}
