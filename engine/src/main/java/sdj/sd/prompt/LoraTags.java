package sdj.sd.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's extra-network tags for LoRA in a prompt: {@code <lora:NAME>} (strength 1),
 * {@code <lora:NAME:STRENGTH>}, and as A1111 reads them {@code <lora:NAME:TE:UNET>} or named
 * {@code te=T}, {@code unet=U} (text-encoder and UNet strengths; UNET defaults to TE); {@code lyco}
 * is accepted as a synonym, as A1111's Lora extension does.
 * The tags ask for a LoRA file and are no prompt text: {@link #strip} removes them before tokenizing.
 */
public final class LoraTags {
    /** A1111's extra-network syntax {@code <kind:arguments>}, restricted to the LoRA kinds. */
    private static final Pattern TAG = Pattern.compile("<(lora|lyco):([^>]+)>");

    private LoraTags() {
    }

    /** One tag: the file name (without extension) looked up in the LoRA folder, and its strengths. */
    public record Tag(String name, float textEncoder, float unet) {
        /** The same strength for both networks. */
        public Tag(String name, float strength) {
            this(name, strength, strength);
        }
    }

    /** The prompt without its LoRA tags (everything else unchanged). */
    public static String strip(String prompt) {
        return TAG.matcher(prompt).replaceAll("");
    }

    /** The LoRA tags of a prompt, in order. */
    public static List<Tag> of(String prompt) {
        List<Tag> tags = new ArrayList<>();
        Matcher m = TAG.matcher(prompt);
        while (m.find()) {
            tags.add(tag(m.group(), m.group(2).split(":", -1)));
        }
        return tags;
    }

    /** A1111's reading: positional TE, UNET (= TE when absent); named te=, unet= override them. */
    private static Tag tag(String text, String[] args) {
        String name = args[0].trim();
        Float te = null;
        Float unet = null;
        int positional = 0;
        for (int i = 1; i < args.length; i++) {
            String a = args[i].trim();
            if (a.startsWith("te=")) {
                te = strength(a.substring(3).trim(), text);
            } else if (a.startsWith("unet=")) {
                unet = strength(a.substring(5).trim(), text);
            } else if (positional == 0 && te == null) {
                te = strength(a, text);
                positional++;
            } else if (positional == 1 && unet == null) {
                unet = strength(a, text);
                positional++;
            } else {
                throw new IllegalArgumentException("prompt tag '" + text + "': '" + a + "' is not understood; write"
                        + " <lora:NAME:STRENGTH> or <lora:NAME:TE:UNET>");
            }
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("prompt tag '" + text + "' has no name; write <lora:NAME:STRENGTH>");
        }
        float t = te == null ? 1f : te;
        return new Tag(name, t, unet == null ? t : unet);
    }

    private static float strength(String text, String tag) {
        try {
            return Float.parseFloat(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("prompt tag '" + tag + "': strength '" + text + "' is not a number (e.g. 0.8)");
        }
    }
}
