package sdj.sd.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's extra-network tags for LoRA in a prompt: {@code <lora:NAME>} (strength 1) and
 * {@code <lora:NAME:STRENGTH>}; {@code lyco} is accepted as a synonym, as A1111's Lora extension does.
 * The tags ask for a LoRA file and are no prompt text: {@link #strip} removes them before tokenizing.
 */
public final class LoraTags {
    /** A1111's extra-network syntax {@code <kind:arguments>}, restricted to the LoRA kinds. */
    private static final Pattern TAG = Pattern.compile("<(lora|lyco):([^>]+)>");

    private LoraTags() {
    }

    /** One tag: the file name (without extension) looked up in the LoRA folder, and its strength. */
    public record Tag(String name, float strength) {
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
            String[] args = m.group(2).split(":", -1);
            String name = args[0].trim();
            if (name.isEmpty() || args.length > 2) {
                throw new IllegalArgumentException("prompt tag '" + m.group() + "' is not <lora:NAME> or <lora:NAME:STRENGTH>");
            }
            tags.add(new Tag(name, args.length == 1 ? 1f : strength(args[1].trim(), m.group())));
        }
        return tags;
    }

    private static float strength(String text, String tag) {
        try {
            return Float.parseFloat(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("prompt tag '" + tag + "': strength '" + text + "' is not a number (e.g. 0.8)");
        }
    }
}
