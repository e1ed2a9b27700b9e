package sdj.sd.clip;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * CLIP's text normalisation before splitting into words: HTML references unescaped (twice, as
 * CLIP does, so doubly escaped text like {@code &amp;amp;} comes out right), runs of whitespace
 * collapsed to one space, ends stripped, lower case. CLIP also runs {@code ftfy.fix_text} first to
 * repair mojibake; there is no Java equivalent, so text that needs it tokenizes differently.
 */
final class ClipTextCleaner {
    /** Unicode White_Space, as the {@code regex} module that CLIP uses reads {@code \s}. */
    private static final Pattern WHITESPACE_RUN = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    private ClipTextCleaner() {
    }

    static String clean(String text) {
        String unescaped = HtmlEntities.unescape(HtmlEntities.unescape(text));
        return WHITESPACE_RUN.matcher(unescaped).replaceAll(" ").strip().toLowerCase(Locale.ROOT);
    }
}
