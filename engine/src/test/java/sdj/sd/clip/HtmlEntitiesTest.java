package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Expected strings are what Python's html.unescape returns for the same input. */
class HtmlEntitiesTest {
    @Test
    void namedReferences() {
        assertEquals("<b> & \" ' \u00e9\u2014\u2026", HtmlEntities.unescape("&lt;b&gt; &amp; &quot; &apos; &eacute;&mdash;&hellip;"));
    }

    @Test
    void legacyNamesWorkWithoutSemicolonOthersDoNot() {
        assertEquals("\u00a92023 & x <3 &hellip &bogus;", HtmlEntities.unescape("&copy2023 &amp x &lt3 &hellip &bogus;"));
        assertEquals("&lifier", HtmlEntities.unescape("&amplifier"));
    }

    @Test
    void numericReferences() {
        assertEquals("AB\u20ac\ufffd\ud83d\ude42", HtmlEntities.unescape("&#x41;&#66&#128;&#0;&#128578;"));
        assertEquals("&# &#x; &", HtmlEntities.unescape("&# &#x; &"));
        assertEquals("\ufffd", HtmlEntities.unescape("&#99999999999;"));
        assertEquals("", HtmlEntities.unescape("&#1;"));
    }
}
