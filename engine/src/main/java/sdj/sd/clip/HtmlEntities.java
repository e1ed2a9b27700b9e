package sdj.sd.clip;

import java.util.HashMap;
import java.util.Map;

/**
 * Replaces HTML character references the way Python's {@code html.unescape} does, which CLIP
 * applies to every prompt (prompts scraped from the web often carry {@code &amp;} and friends).
 * Numeric references are complete; named ones cover Latin-1 and the common typographic set.
 */
final class HtmlEntities {
    /** HTML 4 names of U+00A0..U+00FF, in code order. HTML5 accepts these without a trailing ';'. */
    private static final String[] LATIN1_NAMES = ("nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr "
            + "deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest "
            + "Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml "
            + "ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig "
            + "agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml "
            + "eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml").split(" ");

    /** Names that need the ';' (HTML5 has no legacy form for them). */
    private static final Object[][] OTHER_NAMES = {
        {"apos", 0x27}, {"OElig", 0x152}, {"oelig", 0x153}, {"Scaron", 0x160}, {"scaron", 0x161}, {"Yuml", 0x178},
        {"fnof", 0x192}, {"circ", 0x2C6}, {"tilde", 0x2DC}, {"ensp", 0x2002}, {"emsp", 0x2003}, {"thinsp", 0x2009},
        {"zwnj", 0x200C}, {"zwj", 0x200D}, {"lrm", 0x200E}, {"rlm", 0x200F}, {"ndash", 0x2013}, {"mdash", 0x2014},
        {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
        {"bdquo", 0x201E}, {"dagger", 0x2020}, {"Dagger", 0x2021}, {"bull", 0x2022}, {"hellip", 0x2026},
        {"permil", 0x2030}, {"prime", 0x2032}, {"Prime", 0x2033}, {"lsaquo", 0x2039}, {"rsaquo", 0x203A},
        {"oline", 0x203E}, {"frasl", 0x2044}, {"euro", 0x20AC}, {"trade", 0x2122}, {"larr", 0x2190},
        {"uarr", 0x2191}, {"rarr", 0x2192}, {"darr", 0x2193}, {"harr", 0x2194}, {"minus", 0x2212},
        {"infin", 0x221E}, {"asymp", 0x2248}, {"ne", 0x2260}, {"le", 0x2264}, {"ge", 0x2265}, {"star", 0x2606},
        {"spades", 0x2660}, {"clubs", 0x2663}, {"hearts", 0x2665}, {"diams", 0x2666},
    };

    /** Windows-1252 meanings that HTML gives to numeric references &#128;..&#159;. */
    private static final int[] C1_REPLACEMENTS = {
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
        0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0x9D, 0x017E, 0x0178,
    };

    private static final Map<String, String> WITH_SEMICOLON = new HashMap<>();
    private static final Map<String, String> LEGACY = new HashMap<>();
    private static final int LONGEST_NAME = 32;

    static {
        for (int i = 0; i < LATIN1_NAMES.length; i++) {
            legacy(LATIN1_NAMES[i], String.valueOf((char) (0xA0 + i)));
        }
        for (String[] basic : new String[][] {{"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}}) {
            legacy(basic[0], basic[1]);
            legacy(basic[0].toUpperCase(java.util.Locale.ROOT), basic[1]);
        }
        legacy("COPY", "\u00A9");
        legacy("REG", "\u00AE");
        for (Object[] entry : OTHER_NAMES) {
            WITH_SEMICOLON.put((String) entry[0], Character.toString((Integer) entry[1]));
        }
    }

    private HtmlEntities() {
    }

    private static void legacy(String name, String value) {
        LEGACY.put(name, value);
        WITH_SEMICOLON.put(name, value);
    }

    /** {@code text} with every character reference it contains replaced. */
    static String unescape(String text) {
        if (text.indexOf('&') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            int end = c == '&' ? replaceReference(text, i, out) : -1;
            if (end < 0) {
                out.append(c);
                i++;
            } else {
                i = end;
            }
        }
        return out.toString();
    }

    /** Appends the replacement of the reference at {@code amp}; returns where it ends, or -1 if there is none. */
    private static int replaceReference(String text, int amp, StringBuilder out) {
        int i = amp + 1;
        if (i < text.length() && text.charAt(i) == '#') {
            return replaceNumeric(text, i + 1, out);
        }
        int nameEnd = i;
        while (nameEnd < text.length() && nameEnd - i < LONGEST_NAME && "\t\n\f <&#;".indexOf(text.charAt(nameEnd)) < 0) {
            nameEnd++;
        }
        if (nameEnd == i) {
            return -1;
        }
        String name = text.substring(i, nameEnd);
        boolean semicolon = nameEnd < text.length() && text.charAt(nameEnd) == ';';
        if (semicolon && WITH_SEMICOLON.containsKey(name)) {
            out.append(WITH_SEMICOLON.get(name));
            return nameEnd + 1;
        }
        // Like browsers: the longest legacy name that prefixes the run wins ("&copy2023" reads as "©2023").
        for (int len = name.length(); len >= 2; len--) {
            String value = LEGACY.get(name.substring(0, len));
            if (value != null) {
                out.append(value);
                return i + len;
            }
        }
        return -1;
    }

    private static int replaceNumeric(String text, int start, StringBuilder out) {
        boolean hex = start < text.length() && (text.charAt(start) == 'x' || text.charAt(start) == 'X');
        int digitsStart = hex ? start + 1 : start;
        int end = digitsStart;
        while (end < text.length() && Character.digit(text.charAt(end), hex ? 16 : 10) >= 0 && text.charAt(end) < 128) {
            end++;
        }
        if (end == digitsStart) {
            return -1;
        }
        String digits = text.substring(digitsStart, end).replaceFirst("^0+(?=.)", "");
        int codePoint = digits.length() > 8 ? Integer.MAX_VALUE : (int) Math.min(Long.parseLong(digits, hex ? 16 : 10), Integer.MAX_VALUE);
        out.append(numericReplacement(codePoint));
        return end < text.length() && text.charAt(end) == ';' ? end + 1 : end;
    }

    private static String numericReplacement(int cp) {
        if (cp >= 0x80 && cp <= 0x9F) {
            return Character.toString(C1_REPLACEMENTS[cp - 0x80]);
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return "\uFFFD";
        }
        boolean control = (cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) || cp == 0x7F;
        boolean nonCharacter = (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
        return control || nonCharacter ? "" : Character.toString(cp);
    }
}
